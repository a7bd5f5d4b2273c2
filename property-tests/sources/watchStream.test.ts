// watchStream against a bare HTTP server that writes the watch's body by
// hand, so that lines split across writes, a character split across them,
// several lines in one write, a last line without its newline, a line that
// is not JSON, an HTTP error and a quiet stream are each what the client meets.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ApiAccess } from '../../runtime/sources/kubeConfig.ts';
import { watchStream } from '../../runtime/sources/watchStream.ts';
import { encodeWatchFrame, lengthPrefixed } from '../../testkit/protoEncode.ts';

type Seen = { events: [string, unknown][]; done: Promise<unknown>; url: string };

/** Serves one watch with serve(res), runs watchStream on it, and closes the server after. */
async function watched(serve: (res: ServerResponse) => Promise<void>, timeouts: number | { connectMs: number; silenceMs: number; accept?: string }, body: (s: Seen) => Promise<void>): Promise<void> {
  let requested = '';
  const server = createServer((req, res) => {
    requested = `${req.url ?? ''} accept=${req.headers.accept}`;
    void serve(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const access: ApiAccess = {
    getCurrentCluster: () => ({ name: 'bare', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    applyToHTTPSOptions: async () => {},
  };
  try {
    const events: [string, unknown][] = [];
    let finish!: (e: unknown) => void;
    const done = new Promise((r) => (finish = r));
    await watchStream(access, '/api/v1/pods', { resourceVersion: '7', allowWatchBookmarks: 'true' }, typeof timeouts === 'number' ? { connectMs: timeouts, silenceMs: timeouts } : timeouts, (phase, obj) => events.push([phase, obj]), finish);
    await body({ events, done, get url() { return requested; } });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

const pause = () => new Promise((r) => setTimeout(r, 20));
const event = (type: string, name: string) => JSON.stringify({ type, object: { metadata: { name } } });

test('lines are events however the writes cut them; a line that is not JSON is skipped; the end calls done(null)', () =>
  watched(async (res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const first = event('ADDED', 'a');
    res.write(first.slice(0, 10));
    await pause();
    res.write(`${first.slice(10)}\n${event('MODIFIED', 'b')}\n{"type": "ADDED", "object": {\n\n`);
    await pause();
    const bytes = Buffer.from(`${event('ADDED', 'caf\u00e9')}\n`); // é is two bytes: cut between them
    const cut = bytes.indexOf(0xc3) + 1;
    res.write(bytes.subarray(0, cut));
    await pause();
    res.write(bytes.subarray(cut));
    res.end(event('DELETED', 'd')); // the last line without its newline
  }, 5000, async (s) => {
    assert.is(await s.done, null);
    assert.equal(s.events, [['ADDED', { metadata: { name: 'a' } }], ['MODIFIED', { metadata: { name: 'b' } }],
      ['ADDED', { metadata: { name: 'caf\u00e9' } }], ['DELETED', { metadata: { name: 'd' } }]]);
    assert.match(s.url, /^\/api\/v1\/pods\?.* accept=application\/json$/);
    const q = new URL(s.url.split(' ')[0], 'http://x').searchParams;
    assert.equal([q.get('watch'), q.get('resourceVersion'), q.get('allowWatchBookmarks')], ['true', '7', 'true']);
  }));

test('an HTTP error ends the watch with its status code', () =>
  watched(async (res) => {
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end('{"kind":"Status","code":500}');
  }, 5000, async (s) => {
    const err = await s.done as Error & { statusCode?: number };
    assert.is(err.statusCode, 500);
    assert.is(err.message, 'Internal Server Error');
    assert.equal(s.events, []);
  }));

test('a stream quiet for longer than the timeout ends with a TimeoutError; one that keeps talking does not', () =>
  watched(async (res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    for (let i = 0; i < 6; i++) { // 6 x 100 ms: longer than the 250 ms timeout in all, never that quiet; then silence
      res.write(`${event('BOOKMARK', String(i))}\n`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 250, async (s) => {
    const t0 = performance.now();
    const err = await s.done as Error;
    assert.is(err.name, 'TimeoutError');
    assert.is(s.events.length, 6, 'every event before the silence');
    assert.ok(performance.now() - t0 >= 600, 'not ended while events came');
  }));

test('a connect that gets no answer ends with a TimeoutError after connectMs, however long silence may last', () =>
  watched(async () => {}, { connectMs: 200, silenceMs: 60_000 }, async (s) => {
    const err = await s.done as Error;
    assert.is(err.name, 'TimeoutError');
  }));

test('once the answer has begun, silence is timed by silenceMs, not connectMs', () => {
  let answered = 0;
  return watched(async (res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    answered = performance.now();
  }, { connectMs: 100, silenceMs: 500 }, async (s) => {
    const err = await s.done as Error;
    assert.is(err.name, 'TimeoutError');
    assert.ok(performance.now() - answered >= 500, `ended ${(performance.now() - answered).toFixed(0)} ms after the answer`);
  });
});

test('protobuf frames are events however the writes cut them, a frame that does not decode is skipped, one cut short by the end is not an event', () =>
  watched(async (res) => {
    res.writeHead(200, { 'Content-Type': 'application/vnd.kubernetes.protobuf;stream=watch' });
    const pod = (name: string) => ({ metadata: { name, labels: { app: 'caf\u00e9' } }, spec: { containers: [{ image: 'x', ports: [] }] } });
    const [a, b, c] = [encodeWatchFrame('ADDED', 'v1', 'Pod', pod('a')), encodeWatchFrame('MODIFIED', 'v1', 'Pod', pod('b')), encodeWatchFrame('DELETED', 'v1', 'Pod', pod('c'))];
    res.write(a.subarray(0, 2)); // inside the length
    await pause();
    res.write(a.subarray(2, 20));
    await pause();
    res.write(Buffer.concat([a.subarray(20), lengthPrefixed(Buffer.from('{"not": "protobuf"}')), b, c.subarray(0, c.length - 1)]));
    await pause();
    res.end();
  }, { connectMs: 5000, silenceMs: 5000, accept: 'application/vnd.kubernetes.protobuf, application/json' }, async (s) => {
    assert.is(await s.done, null);
    const want = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'caf\u00e9' } }, spec: { containers: [{}] } });
    assert.equal(s.events, [['ADDED', want('a')], ['MODIFIED', want('b')]]);
    assert.match(s.url, / accept=application\/vnd.kubernetes.protobuf, application\/json$/);
  }));

test.run();
