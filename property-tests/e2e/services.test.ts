// End to end, traffic from pods (fixtures/e2e-services.yaml): ClusterIP over
// TCP and UDP from a pod on each node, session affinity, hairpin, and a
// frontend without endpoints that fails at once. Real packets through the
// real datapath, answered by the echo servers of the testbed's pods, on
// each of NODE_SETUPS.
import * as assert from 'uvu/assert';
import { answersFrom, e2eSuite, fixture, NODE_SETUPS, show, type BedOptions } from './harness.ts';

const WEB = ['demo/web-1', 'demo/web-2', 'demo/web-3'];
const CLIENTS = [['demo/client-1', '10.70.1.50'], ['demo/client-2', '10.70.2.50']] as const; // one per node
const SPREAD = 60; // connections: each backend's chance of none is below 1e-6
/** "Fails fast": a reject answers in well under this; a drop would take the whole timeout. */
const FAST_MS = 200;

function suite(label: string, tag: string, opts: BedOptions): void {
  const { test, bed, run } = e2eSuite(`e2e services (${label})`, `s${tag}`, fixture('e2e-services.yaml'), opts);

  test('ClusterIP, TCP and UDP, from a pod on each node: every answer from a backend, to the pod\'s own address; every backend answers', async () => {
    const runs = CLIENTS.flatMap(([pod, ip]) => (['tcp', 'udp'] as const).map((proto) => ({ pod, ip, proto })));
    const results = await Promise.all(runs.map((r) => bed.probe(r.pod, r.proto, '10.80.0.10', 80, { count: SPREAD })));
    runs.forEach((r, i) => {
      const counts = answersFrom(results[i], WEB, r.ip);
      assert.is(counts.size, WEB.length, `${r.proto} from ${r.pod}: ${show(counts)}`);
    });
  });

  test('pod to pod, no service, on one node and across: the pod sees the client\'s own address; the fast path takes it past the stack, or leaves it to the stack when off', async () => {
    const fastPath = !opts.applyArgs?.includes('--no-fast-path');
    const fwd = (s: { [stat: string]: number }) => s.SL_STAT_FWD_PEER + s.SL_STAT_FWD_DIRECT + s.SL_STAT_FWD_NEIGH;
    const read = () => Promise.all([bed.stats('node-1'), bed.stats('node-2')]);
    // The tests before leave Services' answers in flight (a server's FIN), which
    // go past the stack even with --no-fast-path: counted from when they stop.
    let before = await read();
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const now = await read();
      if (now.every((x, j) => fwd(x) === fwd(before[j]))) break;
      before = now;
    }
    const [same, across, acrossUdp] = await Promise.all([
      bed.probe('demo/client-1', 'tcp', '10.70.1.11', 8080, { count: 5 }), bed.probe('demo/client-1', 'tcp', '10.70.2.12', 8080, { count: 5 }),
      bed.probe('demo/client-2', 'udp', '10.70.1.11', 8080, { count: 5 }),
    ]);
    answersFrom(same, ['demo/web-1'], '10.70.1.50');
    answersFrom(across, ['demo/web-2'], '10.70.1.50');
    answersFrom(acrossUdp, ['demo/web-1'], '10.70.2.50');
    const after = await Promise.all([bed.stats('node-1'), bed.stats('node-2')]);
    const forwarded = after.map((a, i) => fwd(a) - fwd(before[i]));
    // 15 exchanges, each at least a request and an answer through each node it crosses
    if (fastPath) assert.ok(forwarded.every((n) => n >= 10), `packets forwarded past the stack per node: ${forwarded}`);
    else assert.equal(forwarded, [0, 0], 'with --no-fast-path the stack forwards pod-to-pod traffic');
  });

  test('sessionAffinity ClientIP: each client stays on one backend over many connections and datagrams', async () => {
    for (const [pod, ip] of CLIENTS) {
      const [tcp, udp] = await Promise.all([bed.probe(pod, 'tcp', '10.80.0.20', 80, { count: 30 }), bed.probe(pod, 'udp', '10.80.0.20', 80, { count: 30 })]);
      const t = answersFrom(tcp, WEB, ip), u = answersFrom(udp, WEB, ip);
      assert.is(t.size, 1, `TCP from ${pod}: ${show(t)}`);
      assert.is(u.size, 1, `UDP from ${pod}: ${show(u)}`);
    }
  });

  test('hairpin: a pod calling its own service, as its only backend, gets its own answer from the hairpin address', async () => {
    const [tcp, udp, other] = await Promise.all([
      bed.probe('demo/solo-1', 'tcp', '10.80.0.30', 90, { count: 5 }),
      bed.probe('demo/solo-1', 'udp', '10.80.0.30', 90, { count: 5 }),
      bed.probe('demo/client-2', 'tcp', '10.80.0.30', 90, { count: 2 }),
    ]);
    answersFrom(tcp, ['demo/solo-1'], '169.254.42.1'); // apply's default --hairpin-ip
    answersFrom(udp, ['demo/solo-1'], '169.254.42.1');
    answersFrom(other, ['demo/solo-1'], '10.70.2.50'); // any other client keeps its address
  });

  test(`no endpoints: TCP is refused (RST) and UDP gets port unreachable (ECONNREFUSED), each in under ${FAST_MS} ms, from both nodes`, async () => {
    for (const [pod] of CLIENTS) {
      const [tcp, udp] = await Promise.all([bed.timed(pod, 'tcp', '10.80.0.40', 80, 5), bed.timed(pod, 'udp', '10.80.0.40', 53, 5)]);
      for (const [proto, attempts] of [['TCP', tcp], ['UDP', udp]] as const) {
        for (const a of attempts) {
          assert.is(a.outcome, 'ECONNREFUSED', `${proto} from ${pod}: ${JSON.stringify(attempts)}`);
          assert.ok(a.ms < FAST_MS, `${proto} from ${pod}: refused after ${a.ms} ms`);
        }
      }
      const worst = Math.max(...[...tcp, ...udp].map((a) => a.ms));
      console.log(`# reject from ${pod}: TCP ${tcp.map((a) => a.ms).join('/')} ms, UDP ${udp.map((a) => a.ms).join('/')} ms (worst ${worst})`);
    }
  });

  run();
}

for (const n of NODE_SETUPS) suite(n.label, n.tag, n.opts);
