// End to end, NetworkPolicy with real TCP and UDP traffic
// (fixtures/e2e-netpol.yaml: the upstream e2e model, namespaces x, y, z, pods
// a, b, c on two nodes, ports 80 and 81). A sequence of steps creates,
// updates, relabels and deletes policies and labels; after each, every pod
// probes every pod on both ports over both protocols, and a ClusterIP in
// front of x/a, and the external client probes x/a through a NodePort with
// externalTrafficPolicy Local and x/b through one that --dsr takes to the
// other node, from an address inside an ipBlock and one outside it. Every
// answer must be the reference evaluator's verdict for the step (a Service
// judged on its backend, the client's own address on the NodePorts), and so
// must the nodes' own processes reaching the ClusterIP (translated at
// connect time: x/a's node always, the other by x/a's policy). Then
// long-lived TCP and UDP flows across a deny: cut on their next packet, and
// kept with --policy-established keep.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import * as assert from 'uvu/assert';
import { Evaluator, type Cluster, type Json, type Protocol } from '../model/netpol.ts';
import { e2eSuite, fixture, parseAnswer, type Item } from './harness.ts';
import type { Reached } from '../../runtime/testbed/reach.ts';

const DOCS = '192.0.2.10', OTHER = '198.51.100.10'; // external client addresses: inside and outside the ipBlock
const NODE1 = '172.30.10.11', NODE2 = '172.30.10.12';
const HAIRPIN = '169.254.42.1'; // sluice's default --hairpin-ip
const SVC_A = '10.83.0.10'; // x/svc-a: 8080 -> x/a:80, TCP and UDP
const EDGE = 30080, EDGE_B = 30081; // NodePorts: x/a (Local, node-1), x/b (Cluster, node-2: --dsr)
const DSR = ['--dsr'];

const { test, bed, run } = e2eSuite('e2e NetworkPolicy', 'p', fixture('e2e-netpol.yaml'), { clientIps: [DOCS, OTHER], applyArgs: DSR });

const policy = (ns: string, name: string, spec: Json): Item =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
const pods = (items: Item[]) => items.filter((i) => i.kind === 'Pod');
const keyOf = (i: Item) => `${i.metadata.namespace}/${i.metadata.name}`;
const ipOf = (i: Item) => (i.status as { podIP: string }).podIP;

const allowAFromY = (ports: Json[]) => policy('x', 'allow-a-from-y', {
  podSelector: { matchLabels: { pod: 'a' } }, policyTypes: ['Ingress'],
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'y' } } }, { ipBlock: { cidr: '192.0.2.0/24' } }], ports }],
});
const bFromDocs = policy('x', 'b-from-docs', {
  podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Ingress'], ingress: [{ from: [{ ipBlock: { cidr: '192.0.2.0/24' } }], ports: [{ port: 80 }] }],
});
const zbEgress = (to: Json[]) => policy('z', 'b-egress', { podSelector: { matchLabels: { pod: 'b' } }, policyTypes: ['Egress'], egress: [{ to }] });
const defaultDenyY = policy('y', 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] });

const relabel = (kind: string, key: string, labels: { [k: string]: string }) => (items: Item[]) =>
  items.map((i) => (i.kind === kind && (i.metadata.namespace ? keyOf(i) : i.metadata.name) === key ? { ...i, metadata: { ...i.metadata, labels } } : i));
const without = (name: string) => (items: Item[]) => items.filter((i) => !(i.kind === 'NetworkPolicy' && i.metadata.name === name));
const adding = (...ps: Item[]) => (items: Item[]) => [...items.filter((i) => !ps.some((p) => p.metadata.name === i.metadata.name && i.kind === 'NetworkPolicy')), ...ps];

/** The steps: each edits the cluster the one before left. */
const STEPS: { name: string; edit: (items: Item[]) => Item[] }[] = [
  { name: 'no policy', edit: (i) => i },
  { name: 'create: x/a from namespace y (a named port) or the ipBlock; x/b from the ipBlock; z/b may send only inside z',
    edit: adding(allowAFromY([{ port: 'serve-80-tcp', protocol: 'TCP' }]), bFromDocs, zbEgress([{ podSelector: {} }])) },
  { name: 'update: x/a on port 81 over TCP and UDP; z/b also to x/c',
    edit: adding(allowAFromY([{ port: 81, protocol: 'TCP' }, { port: 81, protocol: 'UDP' }]),
      zbEgress([{ podSelector: {} }, { namespaceSelector: { matchLabels: { ns: 'x' } }, podSelector: { matchLabels: { pod: 'c' } } }])) },
  { name: 'relabel: namespace y no longer ns=y; z/c becomes pod=b (so z/b\'s egress policy selects it)',
    edit: (i) => relabel('Pod', 'z/c', { pod: 'b' })(relabel('Namespace', 'y', { ns: 'w', 'kubernetes.io/metadata.name': 'y' })(i)) },
  { name: 'delete x/a\'s policy; create a default deny of ingress in y', edit: (i) => adding(defaultDenyY)(without('allow-a-from-y')(i)) },
  { name: 'delete every policy', edit: (i) => i.filter((x) => x.kind !== 'NetworkPolicy') },
];

function evaluator(items: Item[]): Evaluator {
  const of = (kind: string) => items.filter((i) => i.kind === kind) as unknown as Json[];
  const c: Cluster = { pods: of('Pod'), namespaces: of('Namespace'), policies: of('NetworkPolicy'), nodes: of('Node') };
  return new Evaluator(c);
}

interface Probe { from: string; target: string; backend: string; backendIp: string; protocol: Protocol; port: number }

/** Every pod to every pod on 80 and 81, TCP and UDP, and to x/svc-a (backend x/a) over both. */
function probesOf(items: Item[]): Probe[] {
  const ps = pods(items), xa = ps.find((p) => keyOf(p) === 'x/a')!;
  const out: Probe[] = [];
  for (const from of ps) {
    for (const protocol of ['TCP', 'UDP'] as const) {
      for (const to of ps) for (const port of [80, 81]) out.push({ from: keyOf(from), target: `${protocol.toLowerCase()}:${ipOf(to)}:${port}`, backend: keyOf(to), backendIp: ipOf(to), protocol, port });
      out.push({ from: keyOf(from), target: `${protocol.toLowerCase()}:${SVC_A}:8080`, backend: 'x/a', backendIp: ipOf(xa), protocol, port: 80 });
    }
  }
  return out;
}

/** Runs the probes, each source pod's all at once; checks each against the evaluator; returns how many were allowed and denied. */
async function checkMatrix(items: Item[], step: string): Promise<[number, number]> {
  const ev = evaluator(items), probes = probesOf(items), ipOfPod = new Map(pods(items).map((p) => [keyOf(p), ipOf(p)]));
  const sources = [...new Set(probes.map((p) => p.from))];
  const results = new Map<string, Reached[]>(await Promise.all(sources.map(async (s) => {
    const targets = probes.filter((p) => p.from === s).map((p) => p.target);
    return [s, JSON.parse(await bed.run(s, 'reach', ['--timeout', '1000', ...targets]))] as [string, Reached[]];
  })));
  let allowed = 0, denied = 0;
  const wrong: string[] = [];
  for (const s of sources) {
    const mine = probes.filter((p) => p.from === s);
    results.get(s)!.forEach((r, i) => {
      const p = mine[i];
      const want = ev.evaluate({ src: ipOfPod.get(s)!, dst: p.backendIp, protocol: p.protocol, port: p.port }).allowed;
      const a = r.answer === undefined ? undefined : parseAnswer(r.answer);
      const client = p.backend === s ? [ipOfPod.get(s), HAIRPIN] : [ipOfPod.get(s)]; // a pod reaching itself through a Service
      const got = r.outcome === 'answered' && a?.backend === p.backend && client.includes(a.client);
      if (got !== want) wrong.push(`${s} -> ${p.target} (${p.backend}): ${want ? 'allowed' : 'denied'} by the evaluator, got ${r.outcome} ${r.answer ?? ''}`);
      if (want) allowed++;
      else denied++;
    });
  }
  assert.equal(wrong, [], `${step}: ${wrong.length} of ${probes.length} probes disagree`);
  return [allowed, denied];
}

/** The external client to x/a (Local) and x/b (through node-1, DSR to node-2) from inside and outside the ipBlock. */
async function checkExternal(items: Item[], step: string): Promise<void> {
  const ev = evaluator(items), ip = new Map(pods(items).map((p) => [keyOf(p), ipOf(p)]));
  const cases = [[EDGE, 'x/a', DOCS], [EDGE, 'x/a', OTHER], [EDGE_B, 'x/b', DOCS], [EDGE_B, 'x/b', OTHER]] as const;
  const got = await Promise.all(cases.map(([port, , source]) => bed.probe('external', 'tcp', NODE1, port, { source, timeoutMs: 1000 })));
  cases.forEach(([port, backend, source], i) => {
    const want = ev.evaluate({ src: source, dst: ip.get(backend)!, protocol: 'TCP', port: 80 }).allowed;
    const a = parseAnswer(got[i][0]);
    assert.is(a !== undefined && a.backend === backend && a.client === source, want, `${step}: ${source} -> ${NODE1}:${port} (${backend}): ${got[i][0]}`);
  });
}

const BASE = (yaml.load(readFileSync(fixture('e2e-netpol.yaml'), 'utf8')) as { items: Item[] }).items;
/** The nodes' own processes (host network, translated at connect time) to x/svc-a: node-1's is x/a's own node, node-2's meets its ingress policy. */
async function checkHosts(items: Item[], step: string): Promise<void> {
  const ev = evaluator(items), xa = ipOf(pods(items).find((p) => keyOf(p) === 'x/a')!);
  const nodes = [['node-1', NODE1], ['node-2', NODE2]] as const;
  const got = await Promise.all(nodes.map(([n]) => bed.run(`node/${n}`, 'reach', ['--timeout', '1000', `tcp:${SVC_A}:8080`])));
  nodes.forEach(([n, ip], i) => {
    const [r] = JSON.parse(got[i]) as Reached[];
    const want = ev.evaluate({ src: ip, dst: xa, protocol: 'TCP', port: 80 }).allowed;
    const a = r.answer === undefined ? undefined : parseAnswer(r.answer);
    assert.is(r.outcome === 'answered' && a?.backend === 'x/a' && a.client === ip, want, `${step}: ${n}'s own process -> ${SVC_A}:8080 (x/a): ${r.outcome} ${r.answer ?? ''}`);
  });
}

let current: Item[] = [];

test('create, update, relabel and delete: after each step every pair over TCP and UDP, a ClusterIP and two NodePorts answer as the evaluator says', async () => {
  current = structuredClone(BASE);
  const totals = [0, 0];
  for (const [n, step] of STEPS.entries()) {
    current = step.edit(current);
    await bed.applyAll(bed.variant(`step-${n}`, () => current), DSR);
    const [allowed, denied] = await checkMatrix(current, step.name);
    await Promise.all([checkExternal(current, step.name), checkHosts(current, step.name)]);
    totals[0] += allowed;
    totals[1] += denied;
    console.log(`# NetworkPolicy step ${n} (${step.name}): ${allowed} probes allowed, ${denied} denied, as the evaluator says`);
  }
  assert.ok(totals[1] > 100, `the steps deny something: ${totals[1]}`);
});

/** A deny of ingress to x/c. */
const xcClosed = policy('x', 'c-closed', { podSelector: { matchLabels: { pod: 'c' } }, policyTypes: ['Ingress'] });

/** Long-lived flows to x/c (node-1): TCP from the same node (z/a) and from the other (z/b), UDP from z/a. */
function holds() {
  const xc = '10.73.1.12';
  return [bed.hold('z/a', 'tcp', xc, 80, 20), bed.hold('z/b', 'tcp', xc, 80, 20), bed.hold('z/a', 'udp', xc, 80, 20)];
}

test('long-lived TCP and UDP flows: cut on their next packet after a deny (TCP reset); kept with --policy-established keep, while new ones are denied', async () => {
  // a policy elsewhere: flows are tracked from their start only while the cluster has one (doc/policy.md)
  const open = [...current.filter((i) => i.kind !== 'NetworkPolicy'), defaultDenyY];
  await bed.applyAll(bed.variant('open', () => open), DSR);
  let flows = holds();
  for (const h of flows) await h.line(0);
  const { endedAt: deniedAt } = await bed.applyAll(bed.variant('xc-closed', () => [...open, xcClosed]), DSR);
  await new Promise((r) => setTimeout(r, 1500));
  const cut = await Promise.all(flows.map((h) => h.stop()));
  const [tcpSame, tcpOther, udp] = cut;
  // an exchange under way as the maps changed may still be answered: 500 ms of slack, five of the flows' intervals
  for (const [what, r] of [['TCP, same node', tcpSame], ['TCP, other node', tcpOther]] as const) {
    assert.ok(r.errors.ECONNRESET === 1, `${what}: reset: ${JSON.stringify(r)}`);
    assert.ok(r.lastAt < deniedAt + 500, `${what}: no answer after the cut: ${JSON.stringify(r)}`);
  }
  assert.ok(udp.failed > 0 && udp.lastAt < deniedAt + 500, `UDP: no answer after the deny: ${JSON.stringify(udp)}`);
  console.log(`# NetworkPolicy: long-lived flows' last answers ${cut.map((r) => r.lastAt - deniedAt).join(', ')} ms after the deny was in the maps`);

  await bed.applyAll(bed.variant('open-keep', () => open), [...DSR, '--policy-established', 'keep']);
  flows = holds();
  for (const h of flows) await h.line(0);
  const { endedAt: keptFrom } = await bed.applyAll(bed.variant('xc-closed-keep', () => [...open, xcClosed]), [...DSR, '--policy-established', 'keep']);
  const fresh = await bed.probe('z/a', 'tcp', '10.73.1.12', 80, { timeoutMs: 800 });
  await new Promise((r) => setTimeout(r, 1500));
  for (const [i, r] of (await Promise.all(flows.map((h) => h.stop()))).entries()) {
    assert.equal([r.failed, r.errors], [0, {}], `flow ${i}: kept: ${JSON.stringify(r)}`);
    assert.ok(r.lastAt > keptFrom + 1000, `flow ${i}: answered after the deny: ${JSON.stringify(r)}`);
  }
  assert.equal(fresh, ['error timeout'], 'a new connection is denied');
});

run();
