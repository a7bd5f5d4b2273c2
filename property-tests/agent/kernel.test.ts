// The agent on real pinned maps (root and BPF; skipped with the reason
// otherwise, failed under CI), on a node made of network namespaces, with the
// stand-in datapath object: it programs the maps and attaches the programs,
// gives a new pod's veth its programs, and a restart adopts the live maps,
// writing nothing when nothing changed and only the difference when something
// did, while sl_ct entries survive.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SL_DROP_NO_BACKEND, SL_DROP_POLICY_INGRESS, SL_STAT_TRANSLATED, STATE_MAPS } from '../../runtime/abi/layouts.generated.ts';
import { possibleCpus } from '../../runtime/bpf/maps.ts';
import * as S from '../../runtime/bpf/syscall.ts';
import { datapathArgsOf } from '../../runtime/cli/datapathFlags.ts';
import { compileObjects } from '../../runtime/cli/compile.ts';
import { PinnedStore } from '../../runtime/bpf/maps.ts';
import { opCount } from '../../runtime/maps/mapDiff.ts';
import { reconcile } from '../../runtime/maps/reconcile.ts';
import { dropNetns, dropPinRoot, fixtureObject, ipIn, kernelTest, scratchNetns, scratchPinRoot, tcIn } from '../bpf/env.ts';
import { converged, logged, mapsOf, node, pod, service, slice, until, visible, withCluster, type Running } from './agentHarness.ts';

const it = kernelTest({ netns: true });

/** A veth from the node namespace to a pod namespace, the pod's IP routed to it. */
function podVeth(ns: string, podNs: string, i: number, ip: string): void {
  ipIn(ns, 'link', 'add', `slh${i}`, 'type', 'veth', 'peer', 'name', `slp${i}`, 'netns', podNs);
  ipIn(podNs, 'addr', 'add', `${ip}/32`, 'dev', `slp${i}`);
  ipIn(ns, 'link', 'set', `slh${i}`, 'up');
  ipIn(ns, 'route', 'add', `${ip}/32`, 'dev', `slh${i}`);
}

const filters = (ns: string, dev: string, hook: 'ingress' | 'egress') => tcIn(ns, 'filter', 'show', 'dev', dev, hook);

/** Sets one sl_stats slot to packets (and 100 bytes each) on every CPU. */
function countStat(root: string, stat: number, packets: number): void {
  const fd = S.objGet(`${root}/sl_stats`)!;
  try {
    const perCpu = new DataView(new ArrayBuffer(16 * possibleCpus()));
    for (let cpu = 0; cpu < possibleCpus(); cpu++) {
      perCpu.setBigUint64(16 * cpu, BigInt(packets), true);
      perCpu.setBigUint64(16 * cpu + 8, BigInt(packets * 100), true);
    }
    S.mapUpdate(fd, new Uint8Array(new Uint32Array([stat]).buffer), new Uint8Array(perCpu.buffer));
  } finally {
    S.close(fd);
  }
}

/** One sl_ct entry, as the datapath would have made for a tracked connection. */
function trackConnection(root: string): { key: Uint8Array; value: Uint8Array } {
  const ct = STATE_MAPS.find((m) => m.name === 'sl_ct')!;
  const key = new Uint8Array(ct.key.size).map((_, i) => i + 1), value = new Uint8Array(ct.value.size).fill(7);
  const fd = S.objGet(`${root}/sl_ct`)!;
  try {
    S.mapUpdate(fd, key, value);
  } finally {
    S.close(fd);
  }
  return { key, value };
}

function tracked(root: string, key: Uint8Array): Uint8Array | undefined {
  const fd = S.objGet(`${root}/sl_ct`)!;
  try {
    const v = new Uint8Array(STATE_MAPS.find((m) => m.name === 'sl_ct')!.value.size);
    return S.mapLookup(fd, key, v) ? v : undefined;
  } finally {
    S.close(fd);
  }
}

it('programs pinned maps, attaches to node and pod interfaces, adopts the live maps on restart', () => withCluster(async ({ server, start }) => {
  const ns = scratchNetns('agent'), pods = scratchNetns('agentpods');
  const root = scratchPinRoot();
  try {
    ipIn(ns, 'link', 'add', 'sln0', 'type', 'veth', 'peer', 'name', 'slx0');
    ipIn(ns, 'addr', 'add', '192.168.50.10/24', 'dev', 'sln0');
    ipIn(ns, 'link', 'set', 'sln0', 'up');
    podVeth(ns, pods, 0, '10.244.1.11');
    server.apply('nodes', node('n1', '192.168.50.10'));
    server.apply('pods', pod('shop/web-1', '10.244.1.11'));
    server.apply('services', service('shop/web', '10.96.0.10'));
    server.apply('endpointslices', slice('shop/web', ['10.244.1.11']));
    const agent = () => start({ dryRun: false, datapath: datapathArgsOf({ 'pin-root': root, netns: ns, object: fixtureObject() }) });

    // 1. First start: maps programmed, programs on the node's and the pod's interfaces.
    const a = await agent();
    await converged(a, server);
    assert.equal(logged(a.lines, 'interface attached').map((l) => l.interface).sort(), [
      'sln0 (holds 192.168.50.10): sl_from_netdev ingress attached',
      'slh0 (pod shop/web-1 10.244.1.11): sl_from_pod ingress attached, sl_to_pod egress attached',
    ].sort());
    assert.match(filters(ns, 'slh0', 'egress'), 'sl_to_pod');
    assert.match(filters(ns, 'sln0', 'ingress'), 'sl_from_netdev');
    assert.equal(logged(a.lines, 'host services').map((l) => /sl_connect4 (\w+)/.exec(l.programs)?.[1]), ['attached'], 'cgroup programs, once');

    // 2. A pod comes: its veth gets the programs with the batch that brings it.
    podVeth(ns, pods, 1, '10.244.1.12');
    const t0 = performance.now();
    server.apply('pods', pod('shop/web-2', '10.244.1.12'));
    await until(() => filters(ns, 'slh1', 'ingress').includes('sl_from_pod'), 'programs on the new veth');
    const attachMs = performance.now() - t0;
    assert.ok(attachMs < 2000, `attached ${attachMs.toFixed(0)} ms after the Pod update`);
    ipIn(ns, 'link', 'del', 'slh1'); // the pod goes: its veth, and the programs on it, with it
    server.delete('pods', 'shop/web-2');
    await until(() => logged(a.lines, 'interfaces no longer chosen').some((l) => l.interfaces.includes('slh1')), 'slh1 forgotten');

    const conn = trackConnection(root);
    await a.agent.stop('upgrade');
    assert.match(filters(ns, 'slh0', 'egress'), 'sl_to_pod', 'programs stay attached while the agent is away');

    // 3. Restart on an unchanged cluster: adopts, writes nothing, attaches nothing new.
    const b = await agent();
    await converged(b, server);
    const [first] = logged(b.lines, 'batch');
    assert.equal([first.batch, first.mode, first.applied], [1, 'reconcile', 0], 'the second start writes zero entries');
    assert.ok(first.opCount > 0, 'though the compiler\'s own first diff is the whole image');
    assert.ok(logged(b.lines, 'interface attached').every((l) => / unchanged(,|$)/.test(l.interface) && !/ attached/.test(l.interface)), 'programs left as they are');
    assert.match(logged(b.lines, 'host services')[0].programs, 'sl_connect4 unchanged, sl_sendmsg4 unchanged');
    assert.equal(tracked(root, conn.key), conn.value, 'sl_ct survives');
    await b.agent.stop('upgrade');

    // 4. The cluster changes while no agent runs: the next start writes only the difference.
    server.apply('endpointslices', slice('shop/web', ['10.244.1.11', '10.244.2.20']));
    const live = PinnedStore.open(root);
    const expected = opCount(reconcile(live, compileObjects(visible(server), 'n1')[0].store));
    live.close();
    const c: Running = await agent();
    await converged(c, server);
    const [cFirst] = logged(c.lines, 'batch');
    assert.equal([cFirst.mode, cFirst.applied], ['reconcile', expected]);
    assert.ok(expected > 0 && expected < cFirst.opCount, `only the difference: ${expected} of ${cFirst.opCount}`);
    assert.equal(tracked(root, conn.key), conn.value, 'sl_ct survives again');
    assert.match(mapsOf(c.agent.store()), /map sl_be \(2 entries\)/);
    await c.agent.stop('test over');
    console.log(`# a new pod's veth had its programs ${attachMs.toFixed(0)} ms after the Pod update reached the API server (min-sync 20 ms)`);
  } finally {
    dropNetns(pods);
    dropNetns(ns);
    dropPinRoot(root);
  }
}));

it('a map too small: the apply fails naming the map and the flag, is retried, /healthz turns 503 after the timeout, /livez stays 200; the maps are never wiped', () => withCluster(async ({ server, start }) => {
  const ns = scratchNetns('agentfull');
  const root = scratchPinRoot();
  try {
    ipIn(ns, 'link', 'add', 'sln0', 'type', 'veth', 'peer', 'name', 'slx0');
    ipIn(ns, 'addr', 'add', '192.168.50.10/24', 'dev', 'sln0');
    server.apply('nodes', node('n1', '192.168.50.10'));
    server.apply('services', service('shop/web', '10.96.0.10'));
    server.apply('endpointslices', slice('shop/web', ['10.244.1.11', '10.244.1.12', '10.244.1.13']));
    const r = await start({
      dryRun: false, failTimeoutMs: 300, datapath: datapathArgsOf({ 'pin-root': root, netns: ns, object: fixtureObject(), 'be-max': '2' }),
    });
    await until(() => logged(r.lines, 'apply failed').length >= 2, 'the failure, and a retry');
    const [failed] = logged(r.lines, 'apply failed');
    assert.equal([failed.level, failed.reason], ['error', 'update sl_be: map full (max_entries 2; this change needs 3); raise --be-max']);
    assert.is((await r.get('/readyz')).status, 503);
    assert.not.match(filters(ns, 'sln0', 'ingress'), 'sl_from_netdev', 'no program runs on maps that failed to fill');
    await until(async () => (await r.get('/healthz')).status === 503, 'unhealthy after failTimeoutMs');
    assert.match(JSON.parse((await r.get('/healthz')).body).reason, 'applying to the maps has failed for');
    assert.equal(JSON.parse((await r.get('/livez')).body), { ok: true, reason: 'ok' }, 'alive: restarting cannot make the map larger');
    // The cluster shrinks to fit: the next batch reconciles, and all is well.
    server.apply('endpointslices', slice('shop/web', ['10.244.1.11']));
    await converged(r, server);
    assert.is((await r.get('/healthz')).status, 200);
    assert.is((await r.get('/readyz')).status, 200);
    assert.ok(logged(r.lines, 'batch').some((b) => b.mode === 'reconcile' && b.batch > 1), 'recovered by a reconcile');
    await until(() => filters(ns, 'sln0', 'ingress').includes('sl_from_netdev'), 'programs attached once the maps are whole');
    // The datapath's counters on /metrics: sl_stats summed over CPUs, drops by reason apart.
    const n = possibleCpus();
    countStat(root, -SL_DROP_NO_BACKEND, 3); // a drop's slot is its negation
    countStat(root, SL_STAT_TRANSLATED, 5);
    countStat(root, -SL_DROP_POLICY_INGRESS, 2);
    const metrics = (await r.get('/metrics')).body;
    for (const reason of ['policy_egress', 'policy_revoked', 'policy_unknown_pod', 'frag_untracked']) {
      assert.match(metrics, `\nsluice_datapath_drops_total{reason="${reason}"} 0\n`, `NetworkPolicy's drop reasons: ${reason}`);
    }
    assert.match(metrics, `\nsluice_datapath_drops_total{reason="policy_ingress"} ${2 * n}\n`);
    assert.match(metrics, `\nsluice_datapath_drops_total{reason="no_backend"} ${3 * n}\n`);
    assert.match(metrics, `\nsluice_datapath_dropped_bytes_total{reason="no_backend"} ${300 * n}\n`);
    assert.match(metrics, `\nsluice_datapath_packets_total{stat="translated"} ${5 * n}\n`);
    assert.match(metrics, '\nsluice_datapath_drops_total{reason="src_range"} 0\n');
    assert.not.match(metrics, 'sluice_datapath_packets_total{stat="no_backend"}', 'a drop is not a packet stat');
    await r.agent.stop('test over');
  } finally {
    dropNetns(ns);
    dropPinRoot(root);
  }
}));

test.run();
