// sluice explain --live, as root, against maps `sluice apply` pinned from the
// bundled x/y/z example (node-1): in sync it says so for a flow and for the
// matrix; with an entry of the live maps deleted behind the compiler's back
// (as a lost write, or another tool, would leave them), it names the maps'
// difference, each lookup that now finds something else, and the verdict
// the node would give, and exits 3.
import { spawnSync } from 'node:child_process';
import * as assert from 'uvu/assert';
import { PinnedStore } from '../../runtime/bpf/maps.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import { dropNetns, dropPinRoot, kernelTest, MAIN, scratchNetns, scratchPinRoot } from '../bpf/env.ts';

const it = kernelTest({ netns: true });
const XYZ = new URL('../../examples/netpol-xyz.yaml', import.meta.url).pathname;
const sluice = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

it('usage: --live needs --node; --pin-root goes with --live; unreadable pins exit 3 naming them', () => {
  assert.is(sluice('explain', XYZ, '--from', 'y/b', '--to', 'x/a', '--port', '80', '--live').status, 2);
  assert.is(sluice('explain', XYZ, '--from', 'y/b', '--to', 'x/a', '--port', '80', '--pin-root', '/tmp').status, 2);
  const r = sluice('explain', XYZ, '--from', 'y/b', '--to', 'x/a', '--port', '80', '--live', '--node', 'node-1', '--pin-root', '/sys/fs/bpf/sl-nothing-here');
  assert.equal([r.status, r.stdout], [3, '']);
  assert.match(r.stderr, /^sluice explain: --live: open sl_svc: no map pinned at \/sys\/fs\/bpf\/sl-nothing-here\/sl_svc/);
});

it('in sync: the flow\'s live lookups are the compiled ones; a deleted sl_pol entry: named, with the verdict it changes, exit 3', () => {
  const ns = scratchNetns('live'), root = scratchPinRoot();
  try {
    const apply = sluice('apply', XYZ, '--node', 'node-1', '--netns', ns, '--pin-root', root, '--no-host-services');
    assert.is(apply.status, 0, apply.stderr);
    const live = (...more: string[]) => sluice('explain', XYZ, '--live', '--node', 'node-1', '--pin-root', root, ...more);
    const flow = ['--from', 'y/b', '--to', 'x/a', '--port', '80'];
    const ok = live(...flow);
    assert.is(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`^live maps of node-1 at ${root}: as compiled; epoch [0-9a-f]{8}\n`));
    assert.match(ok.stdout, '\n  live ingress (node-1): allowed\n  live verdict: allow, as compiled; every lookup finds what the compiled maps hold\n');
    const json = JSON.parse(live(...flow, '--format', 'json').stdout);
    assert.equal(json.live.drift, []);
    assert.equal(json.live.ingress.lookups, json.ingress.lookups, 'the live lookups are the compiled ones, key by key');
    const matrix = live('--matrix', '--port', '80,81');
    assert.is(matrix.status, 0);
    assert.match(matrix.stdout, /\nlive: the \d+ flows with a side on node-1 find in its maps what they find in the compiled ones\n$/);

    const store = PinnedStore.open(root);
    const [key] = store.entries('sl_pol')[0]; // node-1's only rule entry: x/a from namespace y on 80/TCP
    store.close();
    const fd = S.objGet(`${root}/sl_pol`)!;
    assert.ok(S.mapDelete(fd, key));
    S.close(fd);
    const drift = live(...flow);
    assert.is(drift.status, 3, drift.stderr);
    assert.match(drift.stdout, new RegExp(`^live maps of node-1 at ${root}: differ from the compiled state \\(an apply would write sl_pol \\+1 -0\\); epoch [0-9a-f]{8}\n`));
    assert.match(drift.stdout, `\n  live verdict: deny, compiled: allow\n  live ingress lookup sl_pol ${Buffer.from(key).toString('hex')}: miss, compiled: "x/allow-a-from-y ingress[0]"\n`);
    const m = JSON.parse(live('--matrix', '--port', '80', '--format', 'json').stdout);
    assert.equal(m.live.ops, { sl_pol: { upserts: 1, deletes: 0 } });
    assert.equal(m.live.differing.map((d: { from: string; to: string; verdict: string }) => `${d.from} ${d.to} ${d.verdict}`),
      ['y/a x/a deny', 'y/b x/a deny', 'y/c x/a deny'], 'the flows that use the entry, from the pods it admits');
  } finally {
    dropNetns(ns);
    dropPinRoot(root);
  }
});

it.run();
