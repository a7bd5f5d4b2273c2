// kube-proxy's rules for one node, as a reference model: Kubernetes objects
// in (valid ones, as the API server would store them), the frontends the
// node answers and each one's backends out. Written from the documents, not
// from sluice's compiler:
// - kubernetes docs/dev/sig-network/service-proxy.md ("Service Proxying"):
//   which IPs and ports a Service accepts, usable endpoints, traffic policies;
// - the Service and EndpointSlice API reference: condition defaults (ready and
//   serving nil mean true, terminating nil means false), ports matched by
//   name and protocol, only the first address of an endpoint;
// - KEP-1669 (terminating endpoints): when no endpoint is ready, the serving
//   and terminating ones are used, for cluster-wide and node-local sets alike;
// - KEP-2086 (internalTrafficPolicy), KEP-1860 (ipMode: Proxy ingress IPs are
//   not the node's to answer);
// - CVE-2020-8554: an externalIP or load balancer IP must not take a
//   ClusterIP; among those, the older Service keeps a contested address.
// Where kube-proxy leaves a choice open, sluice's documented choice is
// modelled (README, "What the compiler follows"): NodePorts answer on the
// Node's InternalIP and ExternalIP addresses; an endpoint listed in several
// slices (kube-proxy keeps whichever copy it meets first, a local one
// preferred) counts once, with the union of what the slices claim for it:
// ready or serving if one says so, terminating only if all do.
import { textOf as ipText } from '../../runtime/encode/ipv4.ts';
import type { Json } from './kube.ts';

export interface ModelBackend { ip: string; port: number }
export interface ModelFrontend {
  service: string;
  type: 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancer';
  ip: string;
  port: number;
  protocol: string;
  trafficPolicy: 'Cluster' | 'Local';
  backends: ModelBackend[];
  affinitySeconds: number | null;
  sourceRanges: string[] | null;
}
export interface ModelView {
  frontends: ModelFrontend[];
  /** Backends pods get through an externalTrafficPolicy=Local external frontend, by frontend "ip:port/protocol". */
  inCluster: Map<string, ModelBackend[]>;
  /** Services that lost a frontend to another claim of the same address, port and protocol. */
  lost: Set<string>;
  /** The rules this input made the model apply, for the property's coverage counts. */
  reached: Set<ModelClass>;
}

export const MODEL_CLASSES = [
  'terminating fallback (cluster)', 'terminating fallback (local)', 'Local frontend without local endpoint',
  'externalTrafficPolicy Local', 'internalTrafficPolicy Local', 'endpoint in two slices', 'endpoint in two slices, conditions differ',
  'named port differs per slice', 'ClusterIP beats externalIP/ingress IP', 'older Service keeps an external IP',
  'ipMode Proxy left out', 'source ranges', 'affinity', 'NodePort', 'externalIP', 'ingress IP', 'IPv6 slice',
  'no Node object', 'over 128 backends', 'no backends',
] as const;
export type ModelClass = (typeof MODEL_CLASSES)[number];

interface Candidate { ip: number; port: number; local: boolean; ready: boolean; serving: boolean; terminating: boolean }

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown) => (Array.isArray(v) ? v as Json[] : []);
const obj = (v: unknown) => (v !== null && typeof v === 'object' ? v as Json : {});

/** An IPv4 address as a number, or undefined for anything else (IPv6 included). */
export function ipv4(v: unknown): number | undefined {
  const m = typeof v === 'string' ? /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v) : null;
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  return o.some((x) => x > 255) ? undefined : ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

const nsName = (o: Json) => `${str(obj(o.metadata).namespace) ?? 'default'}/${str(obj(o.metadata).name)}`;

/** Every endpoint of one service port, one per address and port, with the union of its slices' claims. */
function candidates(slices: Json[], portName: string, protocol: string, node: string, reached: Set<ModelClass>): Candidate[] {
  const byAddr = new Map<string, Candidate>();
  const targetPorts = new Set<number>();
  for (const s of slices) {
    if (s.addressType !== 'IPv4') {
      reached.add('IPv6 slice');
      continue;
    }
    const sp = arr(s.ports).find((p) => (str(p.name) ?? '') === portName && (str(p.protocol) ?? 'TCP') === protocol);
    if (!sp || typeof sp.port !== 'number') continue;
    if (arr(s.endpoints).length > 0) targetPorts.add(sp.port);
    for (const e of arr(s.endpoints)) {
      const ip = ipv4(arr(e.addresses)[0]);
      if (ip === undefined) continue;
      const c = obj(e.conditions);
      const claim = {
        ip, port: sp.port, local: e.nodeName === node,
        ready: c.ready !== false, serving: c.serving !== false, terminating: c.terminating === true,
      };
      const key = `${ip}:${sp.port}`;
      const seen = byAddr.get(key);
      if (seen) reached.add('endpoint in two slices');
      if (seen && (seen.ready !== claim.ready || seen.serving !== claim.serving || seen.terminating !== claim.terminating)) {
        reached.add('endpoint in two slices, conditions differ');
      }
      byAddr.set(key, seen ? {
        ...claim, local: seen.local || claim.local, ready: seen.ready || claim.ready,
        serving: seen.serving || claim.serving, terminating: seen.terminating && claim.terminating,
      } : claim);
    }
  }
  if (targetPorts.size > 1) reached.add('named port differs per slice');
  return [...byAddr.values()];
}

/** KEP-1669: the ready ones; when none is ready, the serving and terminating ones. */
function usable(cs: Candidate[], onFallback: () => void): ModelBackend[] {
  const ready = cs.filter((c) => c.ready);
  const chosen = ready.length > 0 ? ready : cs.filter((c) => c.serving && c.terminating);
  if (ready.length === 0 && chosen.length > 0) onFallback();
  return chosen.sort((a, b) => a.ip - b.ip || a.port - b.port).map((c) => ({ ip: ipText(c.ip), port: c.port }));
}

interface Claim { f: ModelFrontend; rank: [number, number, string]; cluster: ModelBackend[]; twin: boolean }

/** The claims one Service makes, in no particular order. */
function claimsOf(svc: Json, slices: Json[], nodeAddrs: number[], node: string, reached: Set<ModelClass>): Claim[] {
  const spec = obj(svc.spec), meta = obj(svc.metadata);
  const type = str(spec.type) ?? 'ClusterIP';
  const clusterIPs = arr(spec.clusterIPs).length > 0 ? arr(spec.clusterIPs) : spec.clusterIP ? [spec.clusterIP] : [];
  if (type === 'ExternalName' || clusterIPs.includes('None' as never)) return [];
  const name = nsName(svc);
  const age = Date.parse(str(meta.creationTimestamp) ?? '') || 0;
  const affinity = spec.sessionAffinity === 'ClientIP'
    ? (obj(obj(spec.sessionAffinityConfig).clientIP).timeoutSeconds as number | undefined) ?? 10800 : null;
  const ranges = arr(spec.loadBalancerSourceRanges).map((r) => String(r).trim()).filter((r) => ipv4(r.split('/')[0]) !== undefined)
    .sort((a, b) => ipv4(a.split('/')[0])! - ipv4(b.split('/')[0])! || Number(a.split('/')[1]) - Number(b.split('/')[1]));
  const allIngress = type === 'LoadBalancer' ? arr(obj(obj(svc.status).loadBalancer).ingress) : [];
  if (allIngress.some((i) => i.ipMode === 'Proxy' && i.ip)) reached.add('ipMode Proxy left out');
  const ingress = allIngress.filter((i) => i.ipMode !== 'Proxy').map((i) => ipv4(i.ip));
  const etpLocal = spec.externalTrafficPolicy === 'Local', itpLocal = spec.internalTrafficPolicy === 'Local';
  const out: Claim[] = [];
  for (const p of arr(spec.ports)) {
    const protocol = str(p.protocol) ?? 'TCP';
    const cs = candidates(slices, str(p.name) ?? '', protocol, node, reached);
    const cluster = usable(cs, () => reached.add('terminating fallback (cluster)'));
    const local = usable(cs.filter((c) => c.local), () => reached.add('terminating fallback (local)'));
    const add = (kind: ModelFrontend['type'], ip: number | undefined, port: number, isLocal: boolean) => {
      if (ip === undefined) return;
      if (isLocal) reached.add(kind === 'ClusterIP' ? 'internalTrafficPolicy Local' : 'externalTrafficPolicy Local');
      if (isLocal && local.length === 0 && cluster.length > 0) reached.add('Local frontend without local endpoint');
      out.push({
        f: {
          service: name, type: kind, ip: ipText(ip), port, protocol, trafficPolicy: isLocal ? 'Local' : 'Cluster',
          backends: isLocal ? local : cluster, affinitySeconds: affinity,
          sourceRanges: kind === 'LoadBalancer' && ranges.length > 0 ? ranges : null,
        },
        rank: [kind === 'ClusterIP' ? 0 : 1, age, name], cluster, twin: isLocal && kind !== 'ClusterIP',
      });
    };
    for (const ip of clusterIPs) add('ClusterIP', ipv4(ip), p.port as number, itpLocal);
    if ((type === 'NodePort' || type === 'LoadBalancer') && typeof p.nodePort === 'number' && p.nodePort > 0) {
      for (const ip of nodeAddrs) add('NodePort', ip, p.nodePort, etpLocal);
    }
    for (const ip of arr(spec.externalIPs)) add('ExternalIP', ipv4(ip), p.port as number, etpLocal);
    for (const ip of ingress) add('LoadBalancer', ip, p.port as number, etpLocal);
  }
  return out;
}

const byRank = (a: Claim, b: Claim) =>
  a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || (a.rank[2] < b.rank[2] ? -1 : a.rank[2] > b.rank[2] ? 1 : 0);

export const frontendId = (f: Pick<ModelFrontend, 'ip' | 'port' | 'protocol'>) => `${f.ip}:${f.port}/${f.protocol}`;

/** What kube-proxy, by the documents above, programs on node `node` for these objects. */
export function kubeProxyModel(objects: Json[], node: string): ModelView {
  const kind = (k: string) => objects.filter((o) => o.kind === k);
  const self = kind('Node').find((n) => obj(n.metadata).name === node);
  const nodeAddrs = [...new Set(arr(obj(self?.status).addresses)
    .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => ipv4(a.address)).filter((ip) => ip !== undefined))];
  const slicesOf = Map.groupBy(kind('EndpointSlice'),
    (s) => `${str(obj(s.metadata).namespace) ?? 'default'}/${str(obj(obj(s.metadata).labels)['kubernetes.io/service-name'])}`);
  const reached = new Set<ModelClass>();
  if (!self) reached.add('no Node object');
  const claims = kind('Service').flatMap((s) => claimsOf(s, slicesOf.get(nsName(s)) ?? [], nodeAddrs, node, reached));
  const lost = new Set<string>();
  const frontends: ModelFrontend[] = [];
  const inCluster = new Map<string, ModelBackend[]>();
  for (const contenders of Map.groupBy(claims, (c) => frontendId(c.f)).values()) {
    const [winner, ...losers] = contenders.sort(byRank);
    for (const l of losers.filter((x) => x.f.service !== winner.f.service)) {
      if (winner.rank[0] < l.rank[0]) reached.add('ClusterIP beats externalIP/ingress IP');
      else if (winner.rank[0] === 1 && winner.rank[1] < l.rank[1]) reached.add('older Service keeps an external IP');
    }
    for (const l of losers) lost.add(l.f.service);
    frontends.push(winner.f);
    if (winner.twin) inCluster.set(frontendId(winner.f), winner.cluster);
  }
  for (const f of frontends) {
    if (f.type !== 'ClusterIP') reached.add(f.type === 'LoadBalancer' ? 'ingress IP' : f.type === 'NodePort' ? 'NodePort' : 'externalIP');
    if (f.sourceRanges) reached.add('source ranges');
    if (f.affinitySeconds !== null) reached.add('affinity');
    if (f.backends.length > 128) reached.add('over 128 backends');
    if (f.backends.length === 0) reached.add('no backends');
  }
  return { frontends, inCluster, lost, reached };
}
