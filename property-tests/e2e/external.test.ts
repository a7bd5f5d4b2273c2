// End to end, traffic from outside the cluster (fixtures/e2e-external.yaml):
// the external client reaches NodePorts on either node, externalIPs and a
// LoadBalancer IP (routed through node-1). externalTrafficPolicy Local keeps
// the client's own address and rejects on a node without a local endpoint;
// Cluster reaches a backend on the other node through SNAT to the node's IP;
// loadBalancerSourceRanges lets only the clients inside them in. On each of
// NODE_SETUPS.
import * as assert from 'uvu/assert';
import { answersFrom, e2eSuite, fixture, NODE_SETUPS, type BedOptions } from './harness.ts';

const ALLOWED = '192.0.2.10', DENIED = '192.0.2.200'; // inside and outside 192.0.2.0/25

const NODE1 = '172.30.8.11', NODE2 = '172.30.8.12';
const LOCAL = ['edge/local-1'], REMOTE = ['edge/remote-2'];
const FAST_MS = 200;

function suite(label: string, tag: string, opts: BedOptions): void {
  const { test, bed, run } = e2eSuite(`e2e external (${label})`, `x${tag}`, fixture('e2e-external.yaml'), { ...opts, clientIps: [ALLOWED, DENIED] });

  test('Local: the NodePort and the externalIP on the node with the endpoint keep the external client\'s own address (TCP and UDP)', async () => {
    const ext = bed.state.external.ip;
    const [np, npUdp, eip, eipUdp] = await Promise.all([
      bed.probe('external', 'tcp', NODE1, 30080, { count: 5 }), bed.probe('external', 'udp', NODE1, 30080, { count: 5 }),
      bed.probe('external', 'tcp', '198.51.100.10', 80, { count: 5 }), bed.probe('external', 'udp', '198.51.100.10', 80, { count: 5 }),
    ]);
    for (const lines of [np, npUdp, eip, eipUdp]) answersFrom(lines, LOCAL, ext);
  });

  test(`Local: the node without a local endpoint rejects at once (TCP RST, UDP port unreachable, under ${FAST_MS} ms)`, async () => {
    const [tcp, udp] = await Promise.all([bed.timed('external', 'tcp', NODE2, 30080, 5), bed.timed('external', 'udp', NODE2, 30080, 5)]);
    for (const [proto, attempts] of [['TCP', tcp], ['UDP', udp]] as const) {
      for (const a of attempts) {
        assert.is(a.outcome, 'ECONNREFUSED', `${proto}: ${JSON.stringify(attempts)}`);
        assert.ok(a.ms < FAST_MS, `${proto}: refused after ${a.ms} ms`);
      }
    }
    console.log(`# Local NodePort without a local endpoint: TCP ${tcp.map((a) => a.ms).join('/')} ms, UDP ${udp.map((a) => a.ms).join('/')} ms`);
  });

  test('Cluster: a NodePort and an externalIP whose backend is on the other node work, SNATed to the node\'s address; on the backend\'s node, not', async () => {
    const ext = bed.state.external.ip;
    const [viaNode1, viaNode1Udp, eip, eipUdp, viaNode2, viaNode2Udp] = await Promise.all([
      bed.probe('external', 'tcp', NODE1, 30090, { count: 5 }), bed.probe('external', 'udp', NODE1, 30090, { count: 5 }),
      bed.probe('external', 'tcp', '198.51.100.20', 80, { count: 5 }), bed.probe('external', 'udp', '198.51.100.20', 80, { count: 5 }),
      bed.probe('external', 'tcp', NODE2, 30090, { count: 5 }), bed.probe('external', 'udp', NODE2, 30090, { count: 5 }),
    ]);
    for (const lines of [viaNode1, viaNode1Udp, eip, eipUdp]) answersFrom(lines, REMOTE, NODE1); // eIPs are routed via node-1
    for (const lines of [viaNode2, viaNode2Udp]) answersFrom(lines, REMOTE, ext);
  });

  test('loadBalancerSourceRanges: a client inside them reaches the LB IP (both backends), one outside does not', async () => {
    const [allowed, denied, own] = await Promise.all([
      bed.probe('external', 'tcp', '203.0.113.30', 443, { count: 30, source: ALLOWED }),
      bed.probe('external', 'tcp', '203.0.113.30', 443, { count: 2, source: DENIED, timeoutMs: 700 }),
      bed.probe('external', 'tcp', '203.0.113.30', 443, { count: 1, timeoutMs: 700 }),
    ]);
    const counts = answersFrom(allowed, [...LOCAL, ...REMOTE]);
    assert.is(counts.size, 2, JSON.stringify([...counts]));
    for (const line of allowed) assert.ok([ALLOWED, NODE1].includes(line.split(' ')[1].split(':')[0]), line); // local: own address; remote: SNAT
    assert.equal(denied, ['error timeout', 'error timeout'], 'outside the ranges: dropped');
    assert.equal(own, ['error timeout'], 'the external client\'s own address is outside the ranges too');
    const np = await bed.probe('external', 'tcp', NODE1, 30443, { count: 2, source: DENIED });
    answersFrom(np, [...LOCAL, ...REMOTE]); // the ranges guard the LB IP only, as in kube-proxy
  });

  run();
}

for (const n of NODE_SETUPS) suite(n.label, n.tag, n.opts);
