// Reads the oracle files beside this one (translations of upstream test
// suites, each naming its source) into clusters of Kubernetes objects and
// flows with the verdict upstream expects.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import type { Cluster, Json, Protocol } from '../model/netpol.ts';

export interface Probe {
  src: string; // "ns/pod" where the case names pods, else an address
  dst: string;
  srcIp: string;
  dstIp: string;
  protocol: Protocol;
  port: number;
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

export function upstreamPod(ref: string, labels?: Record<string, string>): Json {
  const [ns, name] = ref.split('/');
  const ports = [80, 81].flatMap((n) => ['tcp', 'udp', 'sctp'].map((pr): [string, number, string] => [`serve-${n}-${pr}`, n, pr.toUpperCase()]));
  return pod({ name, namespace: ns, ip: upstreamIp(ref), node: name === 'b' ? 'node-2' : 'node-1', labels: labels ?? { pod: name }, ports });
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

export function knpCases(): OracleCase[] {
  return read('./kube-network-policies.yaml').cases.map((c) => {
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
    return { suite: 'kube-network-policies', name: c.name as string, steps: [{ cluster, probes }], disagrees: c.disagrees as string | undefined };
  });
}
