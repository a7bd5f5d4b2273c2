// End to end on a wiring that is not the testbed's usual one
// (fixtures/e2e-churn.yaml): the nodes and the external client each on a
// link of their own to a router namespace, which checks sources strictly,
// so node-to-node traffic is routed twice and the next hop to the other
// node's pods (and to the client) is the router, not a node. Nodes on
// systemd's rp_filter=2. ClusterIP from a pod to local and remote backends,
// pod to pod across the router, and NodePorts from outside through both
// nodes (local backend: the client's address; remote: SNAT).
import * as assert from 'uvu/assert';
import { ROUTER_IP } from '../../runtime/testbed/names.ts';
import { answersFrom, e2eSuite, fixture, show } from './harness.ts';
import { run as runCommand } from '../../runtime/exec/command.ts';

const { test, bed, run } = e2eSuite('e2e routed', 'rt', fixture('e2e-churn.yaml'), { rpFilter: 2, wiring: 'routed' });

const APP = ['demo/app-1', 'demo/app-2', 'demo/app-3']; // app-1 on node-1, the others on node-2
const CLIENT = 'demo/client-1', CLIENT_IP = '10.72.1.50'; // on node-1
const NODE1 = '172.30.9.11', NODE2 = '172.30.9.12';

test('the wiring: each node reaches the other\'s pods and the client through the router', () => {
  for (const [node, dst] of [['node-1', '10.72.2.12'], ['node-2', '10.72.1.11'], ['node-1', bed.state.external.ip]]) {
    const route = JSON.parse(runCommand(['ip', '-n', bed.node(node).netns, '-j', 'route', 'get', dst]))[0];
    assert.equal([route.gateway, route.dev], [ROUTER_IP, 'eth0'], `${node} -> ${dst}`);
  }
});

test('ClusterIP from a pod, TCP and UDP: every backend answers, local and behind the router, to the pod\'s own address', async () => {
  const [tcp, udp] = await Promise.all([
    bed.probe(CLIENT, 'tcp', '10.82.0.10', 80, { count: 40 }), bed.probe(CLIENT, 'udp', '10.82.0.10', 80, { count: 40 }),
  ]);
  for (const lines of [tcp, udp]) {
    const counts = answersFrom(lines, APP, CLIENT_IP);
    assert.is(counts.size, APP.length, show(counts));
  }
});

test('pod to pod across the router, no service: answered, the client\'s own address kept', async () => {
  answersFrom(await bed.probe(CLIENT, 'tcp', '10.72.2.13', 8080, { count: 3 }), ['demo/app-3'], CLIENT_IP);
});

test('NodePort from outside through either node: every backend answers; a local one sees the client, a remote one the node', async () => {
  const ext = bed.state.external.ip;
  const [one, two, oneUdp] = await Promise.all([
    bed.probe('external', 'tcp', NODE1, 30080, { count: 40 }), bed.probe('external', 'tcp', NODE2, 30080, { count: 40 }),
    bed.probe('external', 'udp', NODE1, 30080, { count: 20 }),
  ]);
  for (const [lines, node] of [[one, NODE1], [two, NODE2], [oneUdp, NODE1]] as const) {
    const counts = answersFrom(lines, APP);
    assert.ok(counts.size >= 2, `through ${node}: ${show(counts)}`);
    for (const line of lines) {
      const [backend, seen] = line.split(' ');
      const local = node === NODE1 ? backend === 'demo/app-1' : backend !== 'demo/app-1';
      assert.is(seen.split(':')[0], local ? ext : node, `through ${node}: ${line}`);
    }
  }
  const s = await bed.stats('node-1');
  assert.ok(s.SL_STAT_FWD_DIRECT + s.SL_STAT_FWD_NEIGH > 0, `node-1 sent packets to the router past the stack: ${JSON.stringify(s)}`);
});

run();
