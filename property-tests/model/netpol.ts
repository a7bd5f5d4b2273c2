// A reference evaluator of NetworkPolicy (networking.k8s.io/v1), written from
import { inSubnet, parseU32 } from '../../runtime/encode/ipv4.ts';
// the API reference and the concept page (kubernetes.io/docs/concepts/
// services-networking/network-policies), not from the compiler. It reads the
// Kubernetes objects themselves, so it shares no parsing with sluice.
//
// What it follows:
// - A pod is isolated for a direction once some policy in its namespace selects
//   it (spec.podSelector) and has that direction in policyTypes; policyTypes
//   defaults to Ingress, plus Egress when spec.egress is non-empty.
// - An isolated side allows what the union of the rules of the policies that
//   select it allows; a flow needs the source's egress and the destination's
//   ingress ("both sides").
// - A rule with no from/to (or an empty list) matches every peer; with no
//   ports every port and protocol. A peer: podSelector alone selects pods of
//   the policy's namespace; namespaceSelector alone every pod of the matching
//   namespaces; both, the matching pods of the matching namespaces; ipBlock
//   any address in cidr and in no except (pod and node addresses too).
// - A port: protocol (default TCP), port number or name (a name is resolved
//   on the destination pod: a container port with that name and protocol),
//   endPort makes a range; no port: every port of the protocol.
// - A pod can always reach itself; traffic between a pod and its own node is
//   always allowed. hostNetwork pods are not selected: their address is their
//   node's, and they count as that node. Terminal pods (Succeeded, Failed) and
//   pods without an IP are not on the network.
export type Json = { [key: string]: unknown };
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface Cluster {
  pods: Json[];
  namespaces: Json[];
  policies: Json[];
  nodes: Json[];
}

export interface Flow {
  src: string; // IPv4 address
  dst: string;
  protocol: Protocol;
  port: number; // destination port
}

export interface Side {
  isolated: boolean;
  allowedBy: string[]; // "ns/name ingress[0]", sorted
}

export type Endpoint =
  | { kind: 'pod'; pod: string; node: string } // "ns/name"
  | { kind: 'node'; node: string }
  | { kind: 'external' };

export interface Verdict {
  allowed: boolean;
  src: Endpoint;
  dst: Endpoint;
  /** null when that side is no pod, or the exception (self, own node) decides. */
  egress: Side | null;
  ingress: Side | null;
  exception?: 'self' | 'node';
}

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const meta = (o: Json) => obj(o.metadata);
const labelsOf = (o: Json): Record<string, string> => obj(meta(o).labels) as Record<string, string>;
const nsOf = (o: Json): string => (typeof meta(o).namespace === 'string' && meta(o).namespace ? meta(o).namespace as string : 'default');
const nameOf = (o: Json) => `${nsOf(o)}/${meta(o).name as string}`;

/** metav1.LabelSelector: matchLabels and matchExpressions all hold; empty matches everything. */
export function selects(selector: unknown, labels: Record<string, string>): boolean {
  const s = obj(selector);
  for (const [k, v] of Object.entries(obj(s.matchLabels))) if (labels[k] !== v) return false;
  for (const e of arr(s.matchExpressions)) {
    const { key, operator } = obj(e) as { key: string; operator: string };
    const values = arr(obj(e).values) as string[];
    const has = Object.hasOwn(labels, key);
    if (operator === 'In' && !(has && values.includes(labels[key]))) return false;
    if (operator === 'NotIn' && has && values.includes(labels[key])) return false;
    if (operator === 'Exists' && !has) return false;
    if (operator === 'DoesNotExist' && has) return false;
    if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(operator)) throw new Error(`unknown operator ${operator}`);
  }
  return true;
}

export function inCidr(ip: string, cidr: string): boolean {
  const [base, len] = cidr.split('/');
  return inSubnet(parseU32(ip), parseU32(base), Number(len));
}

function podIPs(p: Json): string[] {
  const st = obj(p.status);
  const many = arr(st.podIPs).map((x) => obj(x).ip as string);
  const ips = many.length > 0 ? many : typeof st.podIP === 'string' && st.podIP ? [st.podIP] : [];
  return ips.filter((ip) => !ip.includes(':'));
}

export const onNetwork = (p: Json) => !['Succeeded', 'Failed'].includes(obj(p.status).phase as string) && podIPs(p).length > 0;
export const hostNetwork = (p: Json) => obj(p.spec).hostNetwork === true;

function nodeAddrs(n: Json): string[] {
  return arr(obj(n.status).addresses).map(obj).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
    .map((a) => a.address as string).filter((a) => !a.includes(':'));
}

export class Evaluator {
  readonly cluster: Cluster;
  constructor(cluster: Cluster) { this.cluster = cluster; }

  private nsLabels(ns: string): Record<string, string> {
    const o = this.cluster.namespaces.find((n) => meta(n).name === ns);
    return o ? labelsOf(o) : {};
  }

  /** The pod, node or nothing behind an address. */
  resolve(ip: string): Endpoint {
    const pods = this.cluster.pods.filter((p) => onNetwork(p) && !hostNetwork(p) && podIPs(p).includes(ip))
      .map(nameOf).sort();
    if (pods.length > 0) {
      const pod = this.pod(pods[0]);
      return { kind: 'pod', pod: pods[0], node: (obj(pod.spec).nodeName as string) ?? '' };
    }
    const node = this.cluster.nodes.find((n) => nodeAddrs(n).includes(ip));
    return node ? { kind: 'node', node: meta(node).name as string } : { kind: 'external' };
  }

  pod(name: string): Json {
    const p = this.cluster.pods.find((x) => nameOf(x) === name);
    if (!p) throw new Error(`no pod ${name}`);
    return p;
  }

  /** policyTypes as the API server defaults them. */
  static types(policy: Json): string[] {
    const spec = obj(policy.spec);
    const given = arr(spec.policyTypes) as string[];
    if (given.length > 0) return given;
    return arr(spec.egress).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }

  /** The policies that isolate pod for a direction, sorted by ns/name. */
  policiesFor(pod: Json, dir: 'Ingress' | 'Egress'): Json[] {
    return this.cluster.policies
      .filter((np) => nsOf(np) === nsOf(pod) && Evaluator.types(np).includes(dir) && selects(obj(np.spec).podSelector, labelsOf(pod)))
      .sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0));
  }

  private peerMatches(peer: Json, policyNs: string, ip: string, ep: Endpoint): boolean {
    if (peer.ipBlock !== undefined && peer.ipBlock !== null) {
      const b = obj(peer.ipBlock);
      if ((b.cidr as string).includes(':')) return false;
      return inCidr(ip, b.cidr as string) && !arr(b.except).some((e) => !(e as string).includes(':') && inCidr(ip, e as string));
    }
    if (ep.kind !== 'pod') return false;
    const pod = this.pod(ep.pod);
    const hasPods = peer.podSelector !== undefined && peer.podSelector !== null;
    const hasNs = peer.namespaceSelector !== undefined && peer.namespaceSelector !== null;
    const nsOk = hasNs ? selects(peer.namespaceSelector, this.nsLabels(nsOf(pod))) : nsOf(pod) === policyNs;
    return nsOk && (!hasPods || selects(peer.podSelector, labelsOf(pod)));
  }

  private portMatches(port: Json, flow: Flow, dst: Endpoint): boolean {
    const proto = (port.protocol as string | undefined) ?? 'TCP';
    if (proto !== flow.protocol) return false;
    if (port.port === undefined || port.port === null) return true;
    if (typeof port.port === 'string' && !/^[0-9]+$/.test(port.port)) {
      if (dst.kind !== 'pod') return false;
      const containers = arr(obj(this.pod(dst.pod).spec).containers).map(obj);
      return containers.some((c) => arr(c.ports).map(obj).some((cp) =>
        cp.name === port.port && ((cp.protocol as string | undefined) ?? 'TCP') === flow.protocol && cp.containerPort === flow.port));
    }
    const p = Number(port.port);
    const end = port.endPort === undefined || port.endPort === null ? p : Number(port.endPort);
    return flow.port >= p && flow.port <= end;
  }

  /** One side: the rules of every policy isolating pod in dir that admit the peer. */
  side(podName: string, dir: 'Ingress' | 'Egress', peerIp: string, peer: Endpoint, flow: Flow, dst: Endpoint): Side {
    const pod = this.pod(podName);
    const policies = this.policiesFor(pod, dir);
    const allowedBy: string[] = [];
    const key = dir === 'Ingress' ? 'ingress' : 'egress';
    const peersKey = dir === 'Ingress' ? 'from' : 'to';
    for (const np of policies) {
      arr(obj(np.spec)[key]).map(obj).forEach((rule, i) => {
        const peers = arr(rule[peersKey]).map(obj);
        const ports = arr(rule.ports).map(obj);
        const peerOk = peers.length === 0 || peers.some((p) => this.peerMatches(p, nsOf(np), peerIp, peer));
        const portOk = ports.length === 0 || ports.some((p) => this.portMatches(p, flow, dst));
        if (peerOk && portOk) allowedBy.push(`${nameOf(np)} ${key}[${i}]`);
      });
    }
    return { isolated: policies.length > 0, allowedBy: allowedBy.sort() };
  }

  evaluate(flow: Flow): Verdict {
    const src = this.resolve(flow.src), dst = this.resolve(flow.dst);
    if (src.kind === 'pod' && dst.kind === 'pod' && src.pod === dst.pod) {
      return { allowed: true, src, dst, egress: null, ingress: null, exception: 'self' };
    }
    const ownNode = (pod: Endpoint, other: Endpoint) => pod.kind === 'pod' && other.kind === 'node' && other.node === pod.node;
    if (ownNode(src, dst) || ownNode(dst, src)) return { allowed: true, src, dst, egress: null, ingress: null, exception: 'node' };
    const egress = src.kind === 'pod' ? this.side(src.pod, 'Egress', flow.dst, dst, flow, dst) : null;
    const ingress = dst.kind === 'pod' ? this.side(dst.pod, 'Ingress', flow.src, src, flow, dst) : null;
    const ok = (s: Side | null) => !s || !s.isolated || s.allowedBy.length > 0;
    return { allowed: ok(egress) && ok(ingress), src, dst, egress, ingress };
  }
}
