// End to end, host services (examples/cluster.yaml): processes in a node's
// own network namespace reach Services through the cgroup programs
// (connect-time translation), while pods and the external client keep the
// tc path, untouched by the node's cgroup programs. Two nodes attach two sets
// of programs to the same root cgroup, each acting on its own namespace.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { SOCK_HOOKS } from '../../runtime/bpf/sockHooks.ts';
import { answersFrom, e2eSuite, parseAnswer, show } from './harness.ts';

const CLUSTER = new URL('../../examples/cluster.yaml', import.meta.url).pathname;
const { test, bed, run } = e2eSuite('e2e host services', 'h', CLUSTER);

const WEB = ['shop/web-7c5d9f8b6-a1', 'shop/web-7c5d9f8b6-b2', 'shop/web-7c5d9f8b6-b3'];
const DNS = ['kube-system/coredns-5d78c9869d-4xk2p', 'kube-system/coredns-5d78c9869d-9vq7m'];
const INGRESS = ['edge/ingress-6f4b8d7c5-a1']; // edge/ingress: NodePort 30080, externalTrafficPolicy Local, on node-a
const FAST_MS = 200; // a refusal comes in well under this; a drop would take the whole timeout

test('TCP from node-a to a ClusterIP: answered by every backend, and getpeername shows the ClusterIP', async () => {
  const lines = await bed.probe('node/node-a', 'tcp', '10.96.10.10', 80, { count: 30, peer: true });
  const peers = new Set(lines.map((l) => / peer (\S+)$/.exec(l)?.[1]));
  assert.equal([...peers], ['10.96.10.10:80'], lines.join('\n'));
  const counts = answersFrom(lines.map((l) => l.replace(/ peer \S+$/, '')), WEB);
  assert.is(counts.size, WEB.length, show(counts));
});

test('UDP from node-a to kube-dns: every answer comes from the ClusterIP (recvmsg4), from the DNS pods', async () => {
  // probe.ts sends unconnected (sendmsg4) and fails any reply from another address
  answersFrom(await bed.probe('node/node-a', 'udp', '10.96.0.10', 53, { count: 20 }), DNS);
});

test('NodePort on the node\'s own IP; a Local one without a local endpoint is served from the cluster to the node itself', async () => {
  const [own, b, external] = await Promise.all([
    bed.probe('node/node-a', 'tcp', '192.168.50.10', 30080, { count: 3 }),
    bed.probe('node/node-b', 'tcp', '192.168.50.11', 30080, { count: 3 }),
    bed.probe('external', 'tcp', '192.168.50.11', 30080, { count: 1 }),
  ]);
  answersFrom(own, INGRESS);
  answersFrom(b, INGRESS); // kube-proxy serves node-originated traffic from every endpoint too
  assert.equal(external, ['error ECONNREFUSED'], 'the external client is not node-b: the tc path refuses it (Local, no endpoint)');
});

test(`a Service without endpoints: TCP and UDP from node-a refused (ECONNREFUSED) in under ${FAST_MS} ms`, async () => {
  const file = bed.variant('quiet', (items) => [...items, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'quiet', namespace: 'shop' },
    spec: { type: 'ClusterIP', clusterIP: '10.96.80.80', selector: { app: 'quiet' }, ports: [{ name: 'tcp', port: 80, protocol: 'TCP' }, { name: 'udp', port: 53, protocol: 'UDP' }] },
  }]);
  const { outputs } = await bed.applyAll(file);
  for (const o of outputs) assert.match(o, 'sl_connect4 unchanged, sl_sendmsg4 unchanged', 'a second apply keeps the links');
  const [tcp, udp] = await Promise.all([bed.timed('node/node-a', 'tcp', '10.96.80.80', 80, 5), bed.timed('node/node-a', 'udp', '10.96.80.80', 53, 5)]);
  for (const a of [...tcp, ...udp]) {
    assert.is(a.outcome, 'ECONNREFUSED', JSON.stringify([tcp, udp]));
    assert.ok(a.ms < FAST_MS, `refused after ${a.ms} ms`);
  }
  assert.equal(await bed.probe('node/node-a', 'udp', '10.96.80.80', 53), ['error ECONNREFUSED'], 'unconnected UDP: sendmsg4 refuses');
});

test('a pod on node-a is not translated by node-a\'s cgroup programs: its calls to its own service still hairpin through tc', async () => {
  const lines = await bed.probe('shop/web-7c5d9f8b6-a1', 'tcp', '10.96.10.10', 80, { count: 30 });
  const self = lines.map(parseAnswer).filter((a) => a?.backend === 'shop/web-7c5d9f8b6-a1');
  assert.ok(self.length > 0, lines.join('\n'));
  // connect-time translation would have connected the pod to its own address directly
  for (const a of self) assert.is(a!.client, '169.254.42.1', 'hairpin source: the tc path handled it');
});

test('after testbed down no link pin remains and none of the nodes\' cgroup programs is attached', async () => {
  // imported here: they load koffi, which a machine that skips these tests may lack
  const { linkPin, rootCgroup } = await import('../../runtime/bpf/cgroup.ts');
  const S = await import('../../runtime/bpf/syscall.ts');
  /** Prog ids attached to the root cgroup (bpftool), to see that ours went. */
  const attachedIds = () => (JSON.parse(execFileSync('bpftool', ['-j', 'cgroup', 'show', rootCgroup()], { encoding: 'utf8' }).trim() || '[]') as { id: number }[]).map((p) => p.id);
  const ours: number[] = [];
  for (const n of bed.state.nodes) {
    for (const h of SOCK_HOOKS) {
      const fd = S.objGet(linkPin(n.pinRoot, h.program));
      assert.ok(fd !== null, `${n.name}: ${h.program} link pinned`);
      ours.push(S.linkInfo(fd).progId);
      S.close(fd);
    }
  }
  assert.ok(ours.every((id) => attachedIds().includes(id)), 'attached while up');
  const pinRoots = bed.state.nodes.map((n) => n.pinRoot);
  bed.down();
  assert.ok(pinRoots.every((r) => !existsSync(r)), 'pin roots removed');
  // the kernel releases an unpinned link from a work queue: give it a moment
  for (let i = 0; i < 50 && ours.some((id) => attachedIds().includes(id)); i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(ours.filter((id) => attachedIds().includes(id)), [], 'detached');
});

run();
