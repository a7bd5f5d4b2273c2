// Reads the oracle files beside this one (translations of upstream test
// suites, each naming its source) into clusters of Kubernetes objects and
// flows with the verdict upstream expects.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { Cluster, Json, Protocol } from '../model/netpol.ts';

export interface ProbeFlow {
  src: string; // "ns/pod" where the case names pods, else an address
  dst: string;
  srcIp: string;
  dstIp: string;
  protocol: Protocol;
  port: number;
}

export interface Probe extends ProbeFlow {
  allow: boolean;
}

export interface OracleStep {
  cluster: Cluster;
  probes: Probe[];
}

export interface OracleCase {
  suite: string;
  name: string;
  steps: OracleStep[];
  /** Why upstream's expectation contradicts the API reference, for the cases where it does. */
  disagrees?: string;
}

/** A case whose verdicts upstream does not store: only its flows. */
export interface GeneratedCase {
  name: string;
  steps: { cluster: Cluster; probes: ProbeFlow[] }[];
}

const read = (file: string) => yaml.load(readFileSync(new URL(file, import.meta.url), 'utf8')) as { cases: Json[] };

export function policy(p: Json): Json {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: p.name, namespace: p.namespace }, spec: p.spec };
}

export function namespace(name: string, labels: Record<string, string>): Json {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function node(name: string, ip: string): Json {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {}, status: { addresses: [{ type: 'InternalIP', address: ip }] } };
}

export interface PodSpec {
  name: string; namespace: string; ip: string; node: string;
  labels: Record<string, string>; ports: [name: string, port: number, protocol: string][];
}

export function pod(p: PodSpec): Json {
  const ports = p.ports.map(([name, containerPort, protocol]) => ({ name, containerPort, protocol }));
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec: { nodeName: p.node, containers: [{ name: 'c', ports }] },
    status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] },
  };
}

// The upstream e2e model: namespaces x, y, z; pods a, b, c; two nodes.
const NS = ['x', 'y', 'z'];
const POD = ['a', 'b', 'c'];
export const UPSTREAM_NODES = [node('node-1', '192.168.0.1'), node('node-2', '192.168.0.2')];

export function upstreamIp(ref: string): string {
  const [ns, p] = ref.split('/');
  return `10.${NS.indexOf(ns) + 1}.${POD.indexOf(p) + 1}.10`;
}

/** A pod of the upstream model at `ip`: it serves 80 and 81 over every protocol, on node-2 if it is a b. */
function servingPod(ref: string, labels: Record<string, string>, ip: string): Json {
  const [ns, name] = ref.split('/');
  const ports = [80, 81].flatMap((n) => ['tcp', 'udp', 'sctp'].map((pr): [string, number, string] => [`serve-${n}-${pr}`, n, pr.toUpperCase()]));
  return pod({ name, namespace: ns, ip, node: name === 'b' ? 'node-2' : 'node-1', labels, ports });
}

export function upstreamPod(ref: string, labels?: Record<string, string>): Json {
  return servingPod(ref, labels ?? { pod: ref.split('/')[1] }, upstreamIp(ref));
}

/** "$ip(x/b)" and "$slash4(x/b)" in upstream policies: addresses the test reads from its pods. */
function placeholders(v: unknown): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$ip\(([a-z]\/[a-z])\)/g, (_, r) => upstreamIp(r))
      .replace(/\$slash4\(([a-z]\/[a-z])\)/g, (_, r) => `${(Number(upstreamIp(r).split('.')[0]) & 0xf0)}.0.0.0/4`);
  }
  if (Array.isArray(v)) return v.map(placeholders);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, placeholders(x)]));
  return v;
}

function matches(pattern: string, ref: string): boolean {
  if (pattern === '*') return true;
  const [pn, pp] = pattern.split('/'), [n, p] = ref.split('/');
  return (pn === '*' || pn === n) && (pp === '*' || pp === p);
}

/** Upstream's Reachability: all allowed, then each override in order. Self pairs are left out. */
function truthTable(pods: string[], port: number, protocol: Protocol, expect: [string, string, boolean][]): Probe[] {
  const out: Probe[] = [];
  for (const src of pods) {
    for (const dst of pods) {
      if (src === dst) continue;
      let allow = true;
      for (const [f, t, v] of expect) if (matches(f, src) && matches(t, dst)) allow = v;
      out.push({ src, dst, srcIp: upstreamIp(src), dstIp: upstreamIp(dst), protocol, port, allow });
    }
  }
  return out;
}

export function upstreamCases(): OracleCase[] {
  return read('./upstream-e2e.yaml').cases.map((c) => {
    const pods = c.pods as string[];
    const podLabels = new Map(pods.map((p) => [p, { pod: p.split('/')[1] } as Record<string, string>]));
    const nsLabels = new Map(NS.map((n) => [n, { ns: n, 'kubernetes.io/metadata.name': n } as Record<string, string>]));
    let policies = new Map<string, Json>();
    const steps = (c.steps as Json[]).map((s): OracleStep => {
      for (const p of [...(s.create as Json[] ?? []), ...(s.update as Json[] ?? [])]) {
        policies.set(`${p.namespace}/${p.name}`, policy(placeholders(p) as Json));
      }
      if (s.deleteAllPolicies) policies = new Map();
      for (const [n, l] of Object.entries((s.addNamespaceLabels ?? {}) as Json)) nsLabels.set(n, { ...nsLabels.get(n), ...(l as Record<string, string>) });
      for (const [p, l] of Object.entries((s.setPodLabels ?? {}) as Json)) podLabels.set(p, l as Record<string, string>);
      const cluster: Cluster = {
        namespaces: NS.map((n) => namespace(n, nsLabels.get(n)!)),
        pods: pods.map((p) => upstreamPod(p, podLabels.get(p))),
        policies: [...policies.values()],
        nodes: UPSTREAM_NODES,
      };
      const probes = (s.probes as Json[]).flatMap((p) => truthTable(pods, p.port as number, p.protocol as Protocol, p.expect as [string, string, boolean][]));
      return { cluster, probes };
    });
    return { suite: 'upstream e2e', name: c.name as string, steps };
  });
}

/** A case given as a cluster and flows by address (kube-network-policies' tables and the like). */
function flowCase(suite: string, c: Json): OracleCase {
  const pods = (c.pods as Json[]).map((p) => pod({ ports: [], node: 'testnode', ...p } as unknown as PodSpec));
  const byIp = new Map((c.pods as Json[]).map((p) => [p.ip as string, `${p.namespace}/${p.name}`]));
  const cluster: Cluster = {
    namespaces: (c.namespaces as Json[]).map((n) => namespace(n.name as string, n.labels as Record<string, string>)),
    pods,
    policies: (c.policies as Json[]).map(policy),
    nodes: [],
  };
  const probes = (c.flows as Json[]).map((f): Probe => ({
    src: byIp.get(f.src as string) ?? (f.src as string), dst: byIp.get(f.dst as string) ?? (f.dst as string),
    srcIp: f.src as string, dstIp: f.dst as string, protocol: f.protocol as Protocol, port: f.port as number, allow: f.allow as boolean,
  }));
  return { suite, name: c.name as string, steps: [{ cluster, probes }], disagrees: c.disagrees as string | undefined };
}

export function knpCases(): OracleCase[] {
  return read('./kube-network-policies.yaml').cases.map((c) => flowCase('kube-network-policies', c));
}

// The cyclonus model: upstream's, plus the namespaces and pods its cases create.
const CY_NS = ['x', 'y', 'z', 'w', 'y-2'];
const CY_POD = ['a', 'b', 'c', 'd'];
const cyclonusIp = (ref: string) => `10.${CY_NS.indexOf(ref.split('/')[0]) + 1}.${CY_POD.indexOf(ref.split('/')[1]) + 1}.10`;
const PROTOCOLS: Protocol[] = ['TCP', 'UDP', 'SCTP'];
const withName = (ns: string, labels: Record<string, string>) => ({ ...labels, 'kubernetes.io/metadata.name': ns });

/** A named port of the destination pod, resolved as upstream's prober does. */
function probePort(dst: Json, port: number | string, protocol: Protocol): number {
  if (typeof port === 'number') return port;
  const ports = ((dst.spec as Json).containers as Json[]).flatMap((c) => c.ports as Json[]);
  const found = ports.find((p) => p.name === port && p.protocol === protocol);
  if (!found) throw new Error(`${port}/${protocol}: no such port on ${JSON.stringify(dst.metadata)}`);
  return found.containerPort as number;
}

export function cyclonusGeneratedCases(): GeneratedCase[] {
  return read('./cyclonus-generated.yaml').cases.map((c) => {
    const nsLabels = new Map(['x', 'y', 'z'].map((n) => [n, withName(n, { ns: n })]));
    const podLabels = new Map(['x', 'y', 'z'].flatMap((n) => ['a', 'b', 'c'].map((p): [string, Record<string, string>] => [`${n}/${p}`, { pod: p }])));
    const policies = new Map<string, Json>();
    const steps = (c.steps as Json[]).map((s) => {
      for (const p of [...(s.create as Json[] ?? []), ...(s.update as Json[] ?? [])]) policies.set(`${p.namespace}/${p.name}`, policy(p));
      for (const ref of s.delete as string[] ?? []) policies.delete(ref);
      for (const [n, l] of Object.entries({ ...(s.createNamespaces as Json), ...(s.setNamespaceLabels as Json) })) nsLabels.set(n, withName(n, l as Record<string, string>));
      for (const [p, l] of Object.entries({ ...(s.createPods as Json), ...(s.setPodLabels as Json) })) podLabels.set(p, l as Record<string, string>);
      for (const p of s.deletePods as string[] ?? []) podLabels.delete(p);
      for (const n of s.deleteNamespaces as string[] ?? []) {
        nsLabels.delete(n);
        for (const ref of [...podLabels.keys(), ...policies.keys()]) if (ref.startsWith(`${n}/`)) { podLabels.delete(ref); policies.delete(ref); }
      }
      const pods = [...podLabels].map(([ref, l]) => servingPod(ref, l, cyclonusIp(ref)));
      const cluster: Cluster = {
        namespaces: [...nsLabels].map(([n, l]) => namespace(n, l)),
        pods, policies: [...policies.values()], nodes: UPSTREAM_NODES,
      };
      const one = s.probe === 'all' ? null : s.probe as { port: number | string; protocol: Protocol };
      const probes: ProbeFlow[] = [];
      for (const [src] of podLabels) {
        for (const [i, dst] of [...podLabels.keys()].entries()) {
          if (src === dst) continue;
          const kinds = one ? [one] : [80, 81].flatMap((port) => PROTOCOLS.map((protocol) => ({ port, protocol })));
          for (const k of kinds) {
            probes.push({ src, dst, srcIp: cyclonusIp(src), dstIp: cyclonusIp(dst), protocol: k.protocol, port: probePort(pods[i], k.port, k.protocol) });
          }
        }
      }
      return { cluster, probes };
    });
    return { name: c.name as string, steps };
  });
}

/** Upstream's truth table for one model case: a printed grid, or a default per direction and the flows that differ. */
function expected(c: Json): (src: string, dst: string, portProto: string) => boolean {
  const table = c.table as { ports: string[]; rows: Record<string, string> } | undefined;
  const pods = (c.model as Json).pods as string[];
  if (table) {
    return (src, dst, pp) => table.rows[src].split(' ')[pods.indexOf(dst)][table.ports.indexOf(pp)] === '.';
  }
  const side = (d: Json) => (src: string, dst: string, pp: string) =>
    (d.default === 'allowed') !== (d.except as string[][]).some(([f, t, x]) => f === src && t === dst && x === pp);
  const ingress = side(c.ingress as Json), egress = side(c.egress as Json);
  return (src, dst, pp) => ingress(src, dst, pp) && egress(src, dst, pp);
}

export function policyAssistantCases(): OracleCase[] {
  return read('./policy-assistant.yaml').cases.map((c) => {
    if (c.flows) return flowCase('policy-assistant', c);
    const model = c.model as { pods: string[]; namespaces?: string[]; addresses?: string; ports?: string[] };
    const namespaces = model.namespaces ?? NS;
    const ip = (ref: string) => model.addresses
      ? `${model.addresses}.${(namespaces.indexOf(ref.split('/')[0]) + 1) * 10 + POD.indexOf(ref.split('/')[1]) + 1}`
      : upstreamIp(ref);
    const ports = model.ports ?? (c.table as { ports: string[] }).ports;
    const allow = expected(c);
    const probes: Probe[] = [];
    for (const src of model.pods) {
      for (const dst of model.pods) {
        if (src === dst) continue;
        for (const pp of ports) {
          const [protocol, port] = pp.split('/');
          probes.push({ src, dst, srcIp: ip(src), dstIp: ip(dst), protocol: protocol as Protocol, port: Number(port), allow: allow(src, dst, pp) });
        }
      }
    }
    const cluster: Cluster = {
      namespaces: namespaces.map((n) => namespace(n, { ns: n, 'kubernetes.io/metadata.name': n })),
      pods: model.pods.map((p) => servingPod(p, { pod: p.split('/')[1] }, ip(p))),
      policies: (c.policies as Json[]).map(policy),
      nodes: UPSTREAM_NODES,
    };
    return { suite: 'policy-assistant', name: c.name as string, steps: [{ cluster, probes }] };
  });
}
