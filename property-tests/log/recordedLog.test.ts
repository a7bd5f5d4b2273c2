// examples/recorded.log checked by the tests' own reader (model/eventLog.ts),
// not only by `sluice replay`, which shares runtime/log with the writer: each
// batch's recorded counts and digests equal the difference of two fresh
// compiles of the states before and after it, and the state it ends in is,
// for its node, what the kube-proxy model says. Regenerating the log
// (tools/record-example.ts) cannot make these pass by itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { replayCommand } from '../../runtime/cli/replay.ts';
import type { View } from '../../runtime/view/frontends.ts';
import { freshDifference, readEventLog } from '../model/eventLog.ts';
import { frontendId, kubeProxyModel } from '../model/kubeProxy.ts';

const EXAMPLE = new URL('../../examples/recorded.log', import.meta.url).pathname;

test('recorded.log: a header for one node, then batches numbered from 1, then the end of a clean stop', () => {
  const { header, batches, ended } = readEventLog(EXAMPLE);
  assert.equal([header.format, header.version, header.file, header.start], ['sluice-event-log', 2, 0, 'empty']);
  assert.ok(ended, 'the recording ended cleanly');
  assert.type(header.node, 'string');
  assert.equal(batches.map((b) => b.batch), batches.map((_, i) => i + 1));
  assert.ok(batches.length >= 2, 'a first sync and changes after it');
});

test('recorded.log: each batch records the difference of fresh compiles before and after it', () => {
  const { header, batches } = readEventLog(EXAMPLE);
  let before: object[] = [];
  for (const b of batches) {
    const after = [...b.state.values()];
    const want = freshDifference(before as never, after, header.node as string);
    assert.equal(Object.fromEntries(Object.entries(b.maps).map(([m, [u, d, digest]]) => [m, [u, d, digest]])),
      Object.fromEntries(Object.entries(want).map(([m, c]) => [m, [c.added + c.changed, c.deleted, c.digest]])), `batch ${b.batch}`);
    assert.is(b.ops, Object.values(want).reduce((n, c) => n + c.added + c.changed + c.deleted, 0), `batch ${b.batch}: ops`);
    before = after;
  }
});

test('recorded.log replays to the frontends the kube-proxy model gives for the state it ends in', () => {
  const { header, batches } = readEventLog(EXAMPLE);
  let out = '';
  assert.is(replayCommand([EXAMPLE, '--format', 'json'], { out: (t) => (out += t), err: () => {} }), 0);
  const view = JSON.parse(out.trim().split('\n').at(-1)!) as View; // after a line per batch, the view of the end state
  const model = kubeProxyModel([...batches.at(-1)!.state.values()], header.node as string);
  const byId = <T extends { ip: string; port: number; protocol: string }>(fs: T[]) => Object.fromEntries(fs.map((f) => [frontendId(f), f]));
  assert.equal(byId(view.frontends), byId(model.frontends));
});

test.run();
