// The NetworkPolicy compiler benchmark (issue 10): a generated cluster of
// 10,000 pods in 500 namespaces on 100 nodes with 1,000 policies, compiled
// for one node; then, in the same run, the diff (ops and time) of five
// changes against that full compile. Goals: each of the first four changes
// at most 1/1000 of the full compile and at most 50 map ops; 10,000 rules
// selecting one pod compile; the policy maps of the whole cluster under 64 MiB.
import { availableParallelism, loadavg } from 'node:os';
import { normalize } from '../runtime/encode/records.ts';
import { encodeRecords, type Record } from '../runtime/encode/schema.ts';
import { opCount, type MapDiff } from '../runtime/maps/mapDiff.ts';
import { MemoryStore } from '../runtime/maps/store.ts';
import { Compiler } from '../runtime/wasm/host.ts';
import { median, ms, table } from './stats.ts';
import type { MapName } from '../runtime/abi/layouts.generated.ts';

const NODES = 100, NAMESPACES = 500, PODS_PER_NS = 20, APPS = 10;
const REPEAT = 3, CHANGES = 200;
const POLICY_MAPS: MapName[] = ['sl_ipid', 'sl_polcidr', 'sl_pol', 'sl_polname', 'sl_polstate'];

const rec = (o: object): Record => {
  const n = normalize(o);
  if (!n.record) throw new Error(`bench object rejected: ${JSON.stringify(n.rejected)}`);
  return n.record;
};
const ns = (i: number) => `ns-${i}`;

const TEAMS = 50;
const nodeOf = (n: number) => (Math.imul(n, 2654435761) >>> 0) % NODES; // pods spread over nodes by a hash

function namespace(i: number, team = `t${i % TEAMS}`): Record {
  return rec({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns(i), labels: { 'kubernetes.io/metadata.name': ns(i), team } } });
}

/** Pod n of namespace n / 20; `name` and `ip` only for a pod beside the generated ones. */
function pod(n: number, node: number, app = n % APPS, name = `pod-${n}`, ip = n): Record {
  const i = Math.floor(n / PODS_PER_NS);
  const labels = { app: `app-${app}`, tier: ['web', 'db', 'cache'][n % 3], release: 'stable', 'pod-template-hash': `h${n}` };
  return rec({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns(i), labels },
    spec: { nodeName: `node-${node}`, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }] }] },
    status: { phase: 'Running', podIP: `10.${1 + (ip >> 16)}.${(ip >> 8) & 255}.${ip & 255}` },
  });
}

/** Two policies per namespace: ingress by pods, namespaces and named port; egress to DNS, a block with an except, a port range. */
function policies(i: number, port = 53): Record[] {
  const web = {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'web', namespace: ns(i) },
    spec: {
      podSelector: { matchLabels: { app: `app-${i % APPS}` } },
      ingress: [
        { from: [{ podSelector: { matchLabels: { tier: 'web' } } }], ports: [{ port: 'http' }] },
        { from: [{ namespaceSelector: { matchLabels: { team: `t${i % TEAMS}` } }, podSelector: { matchLabels: { app: `app-${(i + 1) % APPS}` } } }] },
      ],
    },
  };
  const egress = {
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'egress', namespace: ns(i) },
    spec: {
      podSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'db'] }] },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns((i + 1) % NAMESPACES) } } }], ports: [{ port, protocol: 'UDP' }, { port, protocol: 'TCP' }] },
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 8000, endPort: 8100 }] },
      ],
    },
  };
  return [rec(web), rec(egress)];
}

function cluster(): Record[] {
  const out: Record[] = [];
  for (let i = 0; i < NAMESPACES; i++) out.push(namespace(i), ...policies(i));
  for (let n = 0; n < NAMESPACES * PODS_PER_NS; n++) out.push(pod(n, nodeOf(n)));
  for (let k = 0; k < NODES; k++) out.push(rec({ apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${k}` }, status: { addresses: [{ type: 'InternalIP', address: `192.168.${k >> 8}.${k & 255}` }] } }));
  return out;
}

const del = (r: Record): Record => ({ kind: r.kind, namespace: r.namespace, name: r.name, op: 'delete' });

/** Each change as a pair of batches, forth and back, so the state stays the cluster's. */
function changes(): [string, Uint8Array, Uint8Array][] {
  const local = 0; // pod-0 runs on node-0, the node compiled, alone in its ingress group
  // A local web policy (in namespace i, selecting a pod of node-0) lets in pods app-(i+1) of team t(i):
  // a remote pod named by it, and a namespace that joins its team, change entries of node-0.
  const i = Math.floor(local / PODS_PER_NS);
  const remote = Array.from({ length: NAMESPACES * PODS_PER_NS }, (_, n) => n)
    .find((n) => nodeOf(n) !== 0 && Math.floor(n / PODS_PER_NS) % TEAMS === i % TEAMS && n % APPS === (i + 1) % APPS)!;
  const joining = (i + 7) % NAMESPACES;
  const extra = pod(local, 0, undefined, 'pod-0-replica', NAMESPACES * PODS_PER_NS); // another replica of pod-0, on node-0
  const keyPolicy = rec({
    apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'by-release', namespace: ns(0) },
    spec: { podSelector: { matchLabels: { app: 'app-0' } }, ingress: [{ from: [{ podSelector: { matchLabels: { release: 'stable' } } }] }] },
  });
  return [
    ['one pod added', encodeRecords([extra]), encodeRecords([del(extra)])],
    ['one pod relabelled', encodeRecords([pod(remote, nodeOf(remote), 3)]), encodeRecords([pod(remote, nodeOf(remote))])],
    ['one policy edited', encodeRecords([policies(0, 5353)[1]]), encodeRecords([policies(0)[1]])],
    ['one namespace relabelled', encodeRecords([namespace(joining, `t${i % TEAMS}`)]), encodeRecords([namespace(joining)])],
    ['a label key newly used by a selector', encodeRecords([keyPolicy]), encodeRecords([del(keyPolicy)])],
    ['one local pod relabelled out of its group', encodeRecords([pod(local, 0, 3)]), encodeRecords([pod(local, 0)])],
  ];
}

function policyEntries(d: MapDiff): number[] {
  const store = new MemoryStore();
  store.apply(d);
  return POLICY_MAPS.map((m) => store.entries(m).length);
}

/** Kernel memory of the policy maps at these entry counts: sl_ipid is preallocated (65,536 elements of
 * 24 B plus the hash element's 48 B); LPM nodes cost about 44 B plus the key and value (POLICY.md §2.4). */
function kernelBytes(entries: number[]): number {
  const [, polcidr, pol, polname, polstate] = entries;
  return 65536 * (4 + 20 + 48) + polcidr * (44 + 20) + pol * (44 + 24) + polname * (48 + 132) + polstate * 56;
}

/** One pod selected by 100 policies of 100 ingress rules each (10,000 rules), each its own port. */
function manyRules(): Record[] {
  const out: Record[] = [namespace(0), pod(0, 0)];
  for (let p = 0; p < 100; p++) {
    const ingress = Array.from({ length: 100 }, (_, r) => ({ from: [{ ipBlock: { cidr: `172.${16 + (r % 16)}.0.0/16` } }], ports: [{ port: 1000 + p * 100 + r }] }));
    out.push(rec({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: `many-${p}`, namespace: ns(0) }, spec: { podSelector: {}, ingress } }));
  }
  return out;
}

export function benchPolicy(): void {
  const load = loadavg()[0];
  const snapshot = encodeRecords(cluster());
  const full: number[] = [];
  let entries: number[] = [], c: Compiler | undefined;
  for (let rep = 0; rep < REPEAT; rep++) {
    c = new Compiler({ node: 'node-0' });
    const t = process.hrtime.bigint();
    const d = c.batch(snapshot);
    full.push(ms(t));
    entries = policyEntries(d);
    c.collect();
  }
  const fullMs = median(full);
  const rows: (string | number)[][] = [['change', 'p50 ms', 'max ms', 'of full', 'ops', 'goal']];
  for (const [name, forth, back] of changes()) {
    const times: number[] = [];
    let ops = 0;
    for (let i = 0; i < CHANGES; i++) {
      const t = process.hrtime.bigint();
      const d = c!.batch(i & 1 ? back : forth);
      if ((i & 1) === 0) { times.push(ms(t)); ops = opCount(d); }
    }
    const p50 = median(times);
    const goal = !name.startsWith('one ') || name.includes('local') ? '-' : p50 <= fullMs / 1000 && ops <= 50 ? 'met' : 'NOT met';
    rows.push([name, p50.toFixed(3), Math.max(...times).toFixed(3), `1/${Math.round(fullMs / p50)}`, ops, goal]);
  }
  const many = new Compiler({ node: 'node-0' });
  let t = process.hrtime.bigint();
  const manyDiff = many.batch(encodeRecords(manyRules()));
  const manyMs = ms(t);
  const manyEntries = policyEntries(manyDiff);
  console.log(`full compile of ${NAMESPACES * PODS_PER_NS} pods, ${NAMESPACES} namespaces, ${NAMESPACES * 2} policies for node-0 (of ${NODES}):` +
    ` p50 ${fullMs.toFixed(0)} ms (min ${Math.min(...full).toFixed(0)}, ${REPEAT} fresh compilers)`);
  console.log(`policy map entries: ${POLICY_MAPS.map((m, i) => `${m} ${entries[i]}`).join(', ')};` +
    ` kernel memory about ${(kernelBytes(entries) / 2 ** 20).toFixed(1)} MiB (goal: under 64 MiB)`);
  console.log(table(rows));
  console.log(`10,000 rules selecting one pod: compiled in ${manyMs.toFixed(0)} ms; ${POLICY_MAPS.map((m, i) => `${m} ${manyEntries[i]}`).join(', ')};` +
    ` kernel memory about ${(kernelBytes(manyEntries) / 2 ** 20).toFixed(1)} MiB`);
  console.log(`(${CHANGES / 2} of each change, each undone between; 1-minute load average ${load.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after, on ${availableParallelism()} CPUs)`);
}
