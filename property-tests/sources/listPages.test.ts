// listPages over a real HTTP connection to the fake API server, in protobuf:
// every page's bytes land in one buffer that the next page reuses, so each
// page's items must decode intact while later, larger pages grow it, and
// reading a page's items after asking for the next must fail, not decode
// another page's bytes. A body cut short by the connection rejects the page.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiCredentials } from '../../runtime/sources/kubeConfig.ts';
import { listPages } from '../../runtime/sources/listPages.ts';
import { ACCEPT_PROTOBUF, PROTOBUF } from '../../runtime/sources/protoSchema.ts';
import { WATCHED_KINDS } from '../../runtime/sources/watchedKinds.ts';
import { FakeApiServer } from '../../testkit/fakeApiServer.ts';

const PODS = WATCHED_KINDS.find((k) => k.kind === 'Pod')!;

/** Pod i of namespace ns; from i = 4 on, each carries 64 KiB of annotations (sent, never decoded), so later pages are larger. */
const pod = (ns: string, i: number) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { namespace: ns, name: `p-${i}`, labels: { n: String(i), ns }, annotations: i < 4 ? {} : { filler: 'x'.repeat(64 << 10) } },
  spec: { nodeName: `node-${i}` },
  status: { podIP: `10.1.0.${i}`, phase: 'Running' },
});

async function withPods(f: (server: FakeApiServer) => Promise<void>): Promise<void> {
  const server = await FakeApiServer.start();
  try {
    for (const ns of ['a', 'b']) for (let i = 0; i < 8; i++) server.apply('pods', pod(ns, i));
    await f(server);
  } finally {
    await server.close();
  }
}

const pages = (server: FakeApiServer, limit: number) => listPages(new ApiCredentials({ server: server.url, clusterName: 'fake', skipTLSVerify: true }),
  PODS, limit, AbortSignal.timeout(10_000), 10_000, ACCEPT_PROTOBUF);

type Item = { metadata: { namespace: string; name: string; labels: { [k: string]: string } }; spec: { nodeName: string }; status: { podIP: string } };

test('protobuf pages through one reused buffer: every item of every page decodes intact, small pages before large ones', async () => {
  await withPods(async (server) => {
    const seen: string[] = [];
    let count = 0;
    for await (const page of pages(server, 3)) {
      count++;
      for (const item of page.items as Iterable<Item>) {
        const { metadata: m } = item, i = Number(m.name.slice(2));
        assert.equal(m.labels, { n: String(i), ns: m.namespace }, m.name);
        assert.is(item.spec.nodeName, `node-${i}`);
        assert.is(item.status.podIP, `10.1.0.${i}`);
        seen.push(`${m.namespace}/${m.name}`);
      }
    }
    assert.is(count, 6); // 16 pods, 3 a page
    assert.equal(seen.sort(), ['a', 'b'].flatMap((ns) => Array.from({ length: 8 }, (_, i) => `${ns}/p-${i}`)).sort());
  });
});

test('a page\'s items read after the next page was asked for throw, naming the list', async () => {
  await withPods(async (server) => {
    const it = pages(server, 4);
    const first = (await it.next()).value!;
    const second = (await it.next()).value!;
    assert.is([...second.items].length, 4); // the control: the current page reads
    assert.throws(() => [...first.items], (e: Error) => e.message === 'list /api/v1/pods: an item read after the next page was asked for: its bytes are gone');
    await it.return(undefined);
  });
});

test('a page whose connection drops part way through its body rejects, and is not decoded', async () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': PROTOBUF, 'content-length': '100000' });
    res.write(Buffer.alloc(70_000), () => res.socket!.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const listed = listPages(new ApiCredentials({ server: url, clusterName: 'fake', skipTLSVerify: true }), PODS, 500, AbortSignal.timeout(10_000), 10_000, ACCEPT_PROTOBUF)
      .next().then(() => 'resolved', (err: Error) => err);
    const hung = new Promise<string>((r) => setTimeout(r, 5000, 'still waiting after 5 s').unref());
    const e = await Promise.race([listed, hung]);
    assert.ok(e instanceof Error, `a body cut short: ${e}`);
    assert.match(e.message, /^(aborted|the response ended before its body did)$/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test.run();
