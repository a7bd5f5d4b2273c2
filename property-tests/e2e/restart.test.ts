// End to end, restart and upgrade under load (fixtures/e2e-churn.yaml).
// `sluice apply` is the agent's whole life on a node: a process that
// programs the pinned maps and programs and exits; the datapath stays. Here
// it runs again on both nodes at once while
// - a client outside opens short TCP connections to node-1's NodePort, 8 at
//   a time (backends on both nodes: DNAT and SNAT), and
// - two TCP connections stay open (pod -> ClusterIP, outside -> NodePort),
//   exchanging a line every 100 ms,
// four ways: the same snapshot again (no map changes), an upgrade whose
// snapshot adds a service (maps change while flows are live), a new load
// setting (every program replaced in place), and the upgrade from programs
// that leave forwarding to the stack (--no-fast-path) to ones that forward
// past it, with flows established under the former. Not one connection may
// fail (Calico users report ~5 s of refused connections on restart).
import * as assert from 'uvu/assert';
import { answersFrom, e2eSuite, fixture, type HoldReport, type Item, type RateReport } from './harness.ts';

const BASE = fixture('e2e-churn.yaml');
const { test, bed, run } = e2eSuite('e2e restart', 'r', BASE);

const APP = ['demo/app-1', 'demo/app-2', 'demo/app-3'];
const VIP = '10.82.0.10', NODE1 = '172.30.9.11', CLIENT = 'demo/client-1';
const MIN_RATE = 200; // short connections a second that must go through without a failure
/**
 * The load client's bounds: it stops 300 ms after apply (about 3 s in all
 * here; apply alone can take 10 s on a busy machine), at the latest after 20
 * s or 30,000 connections, and opens at most 1,500 a second, which keeps the
 * SNAT ports the remote backends take (held 40 s after a RST) well within
 * their 28,232.
 */
const RATE_ARGS = ['--seconds', '20', '--max', '30000', '--rate', '1500', '--concurrency', '8'];
const LOST_SYN_MS = 1000; // a dropped SYN is retransmitted after 1 s: no connection may take that long

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const backendOf = (line: string) => line.slice(0, line.indexOf(' '));

/** Runs apply under load; asserts no connection failed, short or long; returns apply's outputs. */
async function underLoad(label: string, file: string, extra: string[] = []): Promise<string[]> {
  const holds = [bed.hold(CLIENT, 'tcp', VIP, 80), bed.hold('external', 'tcp', NODE1, 30080)];
  const firsts = (await Promise.all(holds.map((h) => h.line<{ answer: string }>(0)))).map((f) => backendOf(f.answer));
  const rate = bed.start<RateReport>('external', 'rate', [NODE1, '30080', ...RATE_ARGS]);
  await rate.line(0);
  await sleep(300);
  const applied = await bed.applyAll(file, extra);
  await sleep(300);
  const r = await rate.stop();
  const held: HoldReport[] = await Promise.all(holds.map((h) => h.stop()));
  const what = `${label}: ${JSON.stringify(r)}`;
  assert.is(r.failed, 0, `failed connections: ${what}`);
  assert.ok(r.startedAt < applied.startedAt && r.endedAt > applied.endedAt, `apply ran outside the window: ${what}`);
  assert.ok(r.rate >= MIN_RATE, `${r.rate} connections/s, not ${MIN_RATE}: ${what}`);
  assert.ok(r.latencyMs.max < LOST_SYN_MS, `a connection took ${r.latencyMs.max} ms (a SYN lost?): ${what}`);
  for (const b of Object.keys(r.backends)) assert.ok(APP.includes(b), what);
  held.forEach((h, i) => {
    assert.is(h.failed, 0, `open connection ${i}: ${JSON.stringify(h)}`);
    assert.equal(h.answers.map(([b]) => b), [firsts[i]], `open connection ${i} keeps its backend`);
    assert.ok(h.lastAt > applied.endedAt, `open connection ${i}: no exchange after apply`);
  });
  console.log(`# ${label}: ${r.ok} connections in ${r.seconds.toFixed(2)} s = ${r.rate}/s, ${r.failed} failed; ` +
    `latency p50/p99/max ${r.latencyMs.p50}/${r.latencyMs.p99}/${r.latencyMs.max} ms, longest gap ${r.maxGapMs} ms; ` +
    `apply on both nodes ${applied.endedAt - applied.startedAt} ms; open connections ${held.map((h) => h.answered).join('+')} exchanges, 0 failed`);
  return applied.outputs;
}

test('sluice apply again, same snapshot, under load: nothing changes, nothing fails', async () => {
  const outputs = await underLoad('re-apply', BASE);
  for (const out of outputs) assert.match(out, /maps: no change/);
});

test('upgrade: a snapshot with one more service, applied under load: the maps change, nothing fails, the new service answers', async () => {
  const extra: Item[] = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'extra', namespace: 'demo' }, spec: {
      type: 'NodePort', clusterIP: '10.82.0.20', selector: { app: 'app' },
      ports: [{ name: 'tcp', port: 80, targetPort: 8080, nodePort: 30081, protocol: 'TCP' }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
      metadata: { name: 'extra-e5', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'extra' } },
      endpoints: [{ addresses: ['10.72.2.13'], conditions: { ready: true }, nodeName: 'node-2' }],
      ports: [{ name: 'tcp', port: 8080, protocol: 'TCP' }] },
  ];
  const outputs = await underLoad('upgrade', bed.variant('upgrade', (items) => [...items, ...extra]));
  for (const out of outputs) assert.match(out, /maps: sl_svc \+\d+/);
  const [fromPod, fromOutside] = await Promise.all([
    bed.probe(CLIENT, 'tcp', '10.82.0.20', 80, { count: 3 }), bed.probe('external', 'tcp', NODE1, 30081, { count: 3 }),
  ]);
  answersFrom(fromPod, ['demo/app-3'], '10.72.1.50');
  answersFrom(fromOutside, ['demo/app-3'], NODE1);
});

test('a new load setting (--hairpin-ip) replaces every program in place under load: nothing fails', async () => {
  const outputs = await underLoad('programs replaced', BASE, ['--hairpin-ip', '169.254.42.2']);
  for (const out of outputs) {
    assert.match(out, /sl_from_netdev ingress replaced/);
    assert.match(out, /sl_from_pod ingress replaced, sl_to_pod egress replaced/);
  }
});

test('upgrade to the fast path: programs that forward through the stack (--no-fast-path) replaced in place under load by ones that forward past it', async () => {
  const before = await bed.applyAll(BASE, ['--no-fast-path']);
  for (const out of before.outputs) assert.match(out, /sl_from_pod ingress replaced/);
  const outputs = await underLoad('fast path on', BASE);
  for (const out of outputs) {
    assert.match(out, /sl_from_netdev ingress replaced/);
    assert.match(out, /sl_from_pod ingress replaced, sl_to_pod egress replaced/);
  }
});

run();
