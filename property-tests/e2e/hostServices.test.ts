// End to end, host services (examples/cluster.yaml): processes in a node's
// own network namespace reach Services through the cgroup programs
// (connect-time translation), while pods and the external client keep the
// tc path, untouched by the node's cgroup programs. Two nodes attach two sets
// of programs to the same root cgroup, each acting on its own namespace. A
// host socket stuck on a backend that left (connected UDP, TCP still
// connecting) is destroyed by the apply that removes it, and its client's
// next socket reaches a backend that is still there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { SOCK_HOOKS } from '../../runtime/bpf/sockHooks.ts';
import { answersFrom, e2eSuite, parseAnswer, show, withoutEndpoint, type Item, type ReopenEvent } from './harness.ts';
import { nsenter, run as runCommand } from '../../runtime/exec/command.ts';

const CLUSTER = new URL('../../examples/cluster.yaml', import.meta.url).pathname;
const { test, bed, run } = e2eSuite('e2e host services', 'h', CLUSTER);

const WEB = ['shop/web-7c5d9f8b6-a1', 'shop/web-7c5d9f8b6-b2', 'shop/web-7c5d9f8b6-b3'];
const DNS = ['kube-system/coredns-5d78c9869d-4xk2p', 'kube-system/coredns-5d78c9869d-9vq7m'];
const INGRESS = ['edge/ingress-6f4b8d7c5-a1']; // edge/ingress: NodePort 30080, externalTrafficPolicy Local, on node-a
const FAST_MS = 200; // a refusal comes in well under this; a drop would take the whole timeout
/** How long after its apply returned a destroyed socket's client may take to report the error (its event loop; a loaded machine). */
const REPORT_MS = 1000;
const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;

test('TCP from node-a to a ClusterIP: answered by every backend, and getpeername shows the ClusterIP', async () => {
  const lines = await bed.probe('node/node-a', 'tcp', '10.96.10.10', 80, { count: 30, peer: true });
  const peers = new Set(lines.map((l) => / peer (\S+)$/.exec(l)?.[1]));
  assert.equal([...peers], ['10.96.10.10:80'], lines.join('\n'));
  const counts = answersFrom(lines.map((l) => l.replace(/ peer \S+$/, '')), WEB);
  assert.is(counts.size, WEB.length, show(counts));
});

/** The frontend of each entry of a node's sl_sockrev ("10.96.10.10:80"), read by the value's layout from the header. */
async function remembered(node: string): Promise<string[]> {
  const S = await import('../../runtime/bpf/syscall.ts'); // loads koffi: here, not at the top (see the last test)
  const { STATE_MAPS } = await import('../../runtime/abi/layouts.generated.ts');
  const { key, value } = STATE_MAPS.find((m) => m.name === 'sl_sockrev')!;
  const at = (name: string) => value.fields.find((f) => f.name === name)!.offset;
  const fd = S.objGet(`${bed.state.nodes.find((n) => n.name === node)!.pinRoot}/sl_sockrev`)!;
  const out: string[] = [];
  try {
    S.mapLookupAll(fd, key.size, value.size, (_keys, values, n) => {
      for (let i = 0; i < n; i++) {
        const v = new DataView(values.buffer, values.byteOffset + i * value.size, value.size);
        out.push(`${[0, 1, 2, 3].map((b) => v.getUint8(at('vip') + b)).join('.')}:${v.getUint16(at('port'))}`);
      }
    });
  } finally {
    S.close(fd);
  }
  return out;
}

test('a host TCP socket to a ClusterIP is remembered in sl_sockrev while it is open, and forgotten when it closes (sock_release)', async () => {
  const web = (xs: string[]) => xs.filter((x) => x === '10.96.10.10:80').length;
  assert.is(web(await remembered('node-a')), 0, 'the probes above closed their sockets');
  const recorded = statCount('node-a', 'SL_STAT_SOCK_RECORDED');
  const client = bed.reopen('node/node-a', 'tcp', '10.96.10.10', 80, 30);
  await client.line<Of<'answer'>>(1);
  assert.is(web(await remembered('node-a')), 1, 'one open socket, one entry');
  // the agent's sweep walks sl_sockrev again only after the count moved (staleSweep.ts, sockRevSince)
  assert.ok(statCount('node-a', 'SL_STAT_SOCK_RECORDED') > recorded, 'the entry was counted');
  await client.stop();
  assert.is(web(await remembered('node-a')), 0, 'its entry went with it');
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

type Of<E extends ReopenEvent['event']> = Extract<ReopenEvent, { event: E }>;

/** The pod's IP, from the testbed. */
const podIp = (key: string) => bed.state.pods.find((p) => p.key === key)!.ip;

/** A counter of sl_stats of a node (`sluice maps`), summed over CPUs. */
const statCount = (node: string, stat: string) =>
  JSON.parse(execFileSync(process.execPath, [MAIN, 'maps', '--pin-root', bed.node(node).pinRoot, '--format', 'json'], { encoding: 'utf8' })).stats[stat].packets as number;
const destroyedCount = (node: string) => statCount(node, 'SL_STAT_SOCK_DESTROYED');

/** The socket's failure came with the apply that removed its backend: not before it started, at most REPORT_MS after it returned. */
function inSync(e: Of<'error'>, sync: { startedAt: number; endedAt: number }): void {
  assert.is(e.code, 'ECONNABORTED', JSON.stringify(e));
  assert.ok(e.at >= sync.startedAt && e.at <= sync.endedAt + REPORT_MS,
    `error at ${e.at - sync.startedAt} ms after the apply started; it took ${sync.endedAt - sync.startedAt} ms`);
}

test('a connected UDP socket from node-a to kube-dns: its backend removed, the socket gets ECONNABORTED within the apply, and a new one reaches the other DNS pod', async () => {
  const before = destroyedCount('node-a');
  const client = bed.reopen('node/node-a', 'udp', '10.96.0.10', 53, 30);
  const first = await client.line<Of<'answer'>>(1); // line 0: socket 1 opened
  assert.is(first.socket, 1);
  const stuck = first.backend, other = DNS.find((d) => d !== stuck)!;
  assert.ok(DNS.includes(stuck), JSON.stringify(first));
  const sync = await bed.applyAll(bed.variant(`without-${stuck.split('/')[1]}`, withoutEndpoint(podIp(stuck))));
  const gone = await client.line<Of<'error'>>(2);
  assert.is(gone.socket, 1);
  inSync(gone, sync);
  const next = await client.line<Of<'answer'>>(4); // line 3: socket 2 opened
  assert.equal([next.socket, next.backend], [2, other], JSON.stringify(next));
  const done = await client.stop();
  assert.ok(done.event === 'done' && done.sockets === 2, JSON.stringify(done));
  assert.equal([...new Set(done.answers.map(([socket, backend]) => `${socket} ${backend}`))], [`1 ${stuck}`, `2 ${other}`], 'each socket kept its backend');
  const [a, b] = sync.outputs;
  assert.match(a, 'stale sockets: 1 destroyed (10.96.0.10:53/UDP 1)', a);
  assert.match(b, 'stale sockets: none', b);
  assert.is(destroyedCount('node-a') - before, 1, 'counted in sl_stats');
});

test('a TCP socket from node-a still connecting to a backend that drops SYNs: the backend removed, the connect fails with ECONNABORTED within the apply, and a new one is answered by the remaining backend', async () => {
  const [stuck, other] = [WEB[2], WEB[1]];
  const slow = (backend: string) => (items: Item[]) => [...items, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'slow', namespace: 'shop' },
    spec: { type: 'ClusterIP', clusterIP: '10.96.81.81', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }] },
  }, {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType: 'IPv4',
    metadata: { name: 'slow-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'slow' } },
    endpoints: [{ addresses: [podIp(backend)], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  }];
  await bed.applyAll(bed.variant('slow-to-b3', slow(stuck)));
  // the backend's own namespace drops the SYNs, as a hung pod or a dead node would
  const netns = bed.state.pods.find((p) => p.key === stuck)!.netns;
  runCommand(nsenter(netns, ['nft', '-f', '-']), {
    input: 'table ip slstale {\n  chain input {\n    type filter hook input priority 0;\n    tcp dport 8080 tcp flags & (syn | ack) == syn drop\n  }\n}\n',
  });
  try {
    const client = bed.reopen('node/node-a', 'tcp', '10.96.81.81', 80, 30);
    await client.line<Of<'open'>>(0);
    await new Promise((r) => setTimeout(r, 300)); // its SYN is out, and dropped
    const sync = await bed.applyAll(bed.variant('slow-to-b2', slow(other)));
    const gone = await client.line<Of<'error'>>(1);
    assert.equal([gone.socket, gone.phase], [1, 'connecting'], JSON.stringify(gone));
    inSync(gone, sync);
    const next = await client.line<Of<'answer'>>(3); // line 2: socket 2 opened
    assert.equal([next.socket, next.backend], [2, other], JSON.stringify(next));
    await client.stop();
    assert.match(sync.outputs[0], 'stale sockets: 1 destroyed (10.96.81.81:80/TCP 1)', sync.outputs[0]);
  } finally {
    runCommand(nsenter(netns, ['nft', 'delete', 'table', 'ip', 'slstale']));
  }
});

test('after testbed down no link pin remains and none of the nodes\' cgroup programs is attached', async () => {
  // imported here: they load koffi, which a machine that skips these tests may lack
  const { linkPin, rootCgroup } = await import('../../runtime/bpf/cgroup.ts');
  const S = await import('../../runtime/bpf/syscall.ts');
  /** Prog ids attached to the root cgroup (bpftool), to see that ours went. */
  const attachedIds = () => (JSON.parse(runCommand(['bpftool', '-j', 'cgroup', 'show', rootCgroup()]).trim() || '[]') as { id: number }[]).map((p) => p.id);
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
