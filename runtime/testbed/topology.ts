// A cluster snapshot -> the network namespaces that stand in for it. Pure: the
// records in, names, addresses and routes out; wire.ts makes them. For
// examples/cluster.yaml with prefix p:
//
//                  p-ul: bridge br0, no addresses
//        ┌──────────────────────┬──────────────────────────┐
//   veth ulext            veth uln<hash>              veth uln<hash>
//        │                      │                          │
//  p-ext eth0             p-n-node-a eth0            p-n-node-b eth0
//  192.168.50.254/24      192.168.50.10/24           192.168.50.11/24
//  10.244.1.0/24 via .10  10.244.2.0/24 via .11      10.244.1.0/24 via .10
//  10.244.2.0/24 via .11  unreachable 10.244.1.0/24  unreachable 10.244.2.0/24
//  service, LB and        default via .254           default via .254
//  external IPs /32       10.244.1.11/32 dev slp<h>  10.244.2.12/32 dev slp<h>
//  via .10 (first node)   ...one /32 per pod         ...
//  no forwarding                │ veth (host side: proxy_arp, no address)
//                         p-p-shop.web-7c5d9f8b6-a1 eth0 10.244.1.11/32
//                         169.254.1.1 dev eth0 scope link; default via 169.254.1.1
//                         echo server: TCP+UDP on each containerPort
//  Nodes: a real node's defaults plus ip_forward=1: rp_filter 0 (the kernel's)
//  or 2 (systemd's), accept_local=0 (wire.ts); pods and the external client:
//  strict rp_filter, no forwarding.
//
// Why a bridge by default: nodes of one cluster often share a subnet and
// reach each other's pod CIDRs through each other's node IPs as on-link next
// hops. A bridge gives exactly that (ARP and all). The routed wiring
// (--routed, wire.ts) puts a router namespace in its place, a link to each
// node and to the external client, for clusters whose nodes do not share a
// segment: every node-to-node hop is then two routed hops, and the next hop
// to another node's pods is the router; the pure layout here is the same.
// The external client sits on the same L2, like a client or router on the node
// subnet, and is the nodes' default gateway, so it may source traffic from any
// address (--client-ip): replies come back to it by the default route.
import * as R from '../../compiler/abi/records.ts';
import { formatCidr, formatIp } from '../encode/ip.ts';
import type { Upsert } from '../encode/schema.ts';
import { commonPrefix, inSubnet, maskOf, parseU32, textOf, u32Of } from '../encode/ipv4.ts';
import * as N from './names.ts';

export interface NodeSpec {
  name: string;
  netns: string;
  ip: string; // InternalIP, on eth0 with the underlay's prefix length
  podCIDRs: string[];
  underlayIface: string; // its port on the bridge
  pinRoot: string;
}

export interface PodSpec {
  key: string; // "namespace/name"
  node: string;
  netns: string;
  ip: string;
  hostIface: string;
  ports: number[]; // served on TCP and UDP alike
}

export interface Route { dst: string; via: string }

export interface Topology {
  prefix: string;
  underlay: { netns: string; subnet: string; prefixLen: number };
  external: { netns: string; ip: string; routes: Route[] };
  nodes: NodeSpec[]; // by name
  pods: PodSpec[]; // by key
  skipped: string[]; // objects left out, and why: one line each
}

/** The underlay subnet is at most this long, so the external client always finds a free address. */
const MAX_UNDERLAY_PREFIX = 24;

type Rec<K extends Upsert['kind']> = Extract<Upsert, { kind: K }>;

/** Throws when no Node has an InternalIP: there would be no cluster to make. */
export function topologyOf(records: readonly Upsert[], prefix: string): Topology {
  const skipped: string[] = [];
  const nodes = nodeSpecs(records.filter((r): r is Rec<typeof R.KIND_NODE> => r.kind === R.KIND_NODE), prefix, skipped);
  if (nodes.length === 0) throw new Error('the snapshot has no Node with an InternalIP: nothing to make');
  const addrs = nodes.map((n) => parseU32(n.ip));
  const prefixLen = commonPrefix(addrs, MAX_UNDERLAY_PREFIX);
  const net = (addrs[0] & maskOf(prefixLen)) >>> 0;
  const externalIp = freeAddress(net, prefixLen, new Set(addrs));
  const inUse = new Set([...nodes.map((n) => n.ip), textOf(externalIp)]);
  const pods = podSpecs(records.filter((r): r is Rec<typeof R.KIND_POD> => r.kind === R.KIND_POD), prefix, nodes, inUse, skipped);
  const routes = [
    ...nodes.flatMap((n) => n.podCIDRs.map((c) => ({ dst: c, via: n.ip }))),
    ...serviceRoutes(records.filter((r): r is Rec<typeof R.KIND_SERVICE> => r.kind === R.KIND_SERVICE), nodes, net, prefixLen, skipped),
  ];
  return {
    prefix,
    underlay: { netns: N.underlayNetns(prefix), subnet: `${textOf(net)}/${prefixLen}`, prefixLen },
    external: { netns: N.externalNetns(prefix), ip: textOf(externalIp), routes },
    nodes,
    pods,
    skipped,
  };
}

function nodeSpecs(records: readonly Rec<typeof R.KIND_NODE>[], prefix: string, skipped: string[]): NodeSpec[] {
  const seen = new Map<string, string>(); // ip -> node
  return records.flatMap((r) => {
    const internal = r.body.addresses.find((a) => a.type === R.NODE_ADDR_INTERNAL);
    if (!internal) return skip(skipped, `Node ${r.name}: no InternalIP`);
    const ip = formatIp(internal.ip);
    if (seen.has(ip)) return skip(skipped, `Node ${r.name}: InternalIP ${ip} is also Node ${seen.get(ip)}'s`);
    seen.set(ip, r.name);
    return [{
      name: r.name, netns: N.nodeNetns(prefix, r.name), ip, podCIDRs: r.body.podCIDRs.map(formatCidr),
      underlayIface: N.underlayIface(r.name), pinRoot: N.pinRoot(prefix, r.name),
    }];
  });
}

function podSpecs(records: readonly Rec<typeof R.KIND_POD>[], prefix: string, nodes: readonly NodeSpec[],
  inUse: Set<string>, skipped: string[]): PodSpec[] {
  const nodeNames = new Set(nodes.map((n) => n.name));
  const owner = new Map<string, string>(); // pod ip -> pod key
  return records.flatMap((r) => {
    const key = `${r.namespace}/${r.name}`;
    const why = (text: string) => skip(skipped, `Pod ${key}: ${text}`);
    if (r.body.flags & R.PODF_HOST_NETWORK) return why('hostNetwork: it has no namespace of its own');
    if (r.body.flags & R.PODF_TERMINAL) return why('Succeeded or Failed: its IP may belong to another pod');
    if (r.body.podIPs.length === 0) return why('no podIP');
    if (!nodeNames.has(r.body.nodeName)) return why(r.body.nodeName === '' ? 'not scheduled' : `node ${r.body.nodeName} is not in the testbed`);
    const ip = formatIp(r.body.podIPs[0]);
    if (inUse.has(ip)) return why(`podIP ${ip} is a node's or the external client's`);
    if (owner.has(ip)) return why(`podIP ${ip} is also Pod ${owner.get(ip)}'s`);
    owner.set(ip, key);
    const ports = [...new Set(r.body.ports.filter((p) => p.proto === R.PROTO_TCP || p.proto === R.PROTO_UDP).map((p) => p.port))];
    if (r.body.ports.some((p) => p.proto !== R.PROTO_TCP && p.proto !== R.PROTO_UDP)) skipped.push(`Pod ${key}: SCTP ports are not served`);
    return [{
      key, node: r.body.nodeName, netns: N.podNetns(prefix, r.namespace, r.name), ip,
      hostIface: N.hostIface(r.namespace, r.name), ports: ports.sort((a, b) => a - b),
    }];
  });
}

/** ClusterIPs, externalIPs and LoadBalancer IPs, each /32 through the first node (by name). */
function serviceRoutes(records: readonly Rec<typeof R.KIND_SERVICE>[], nodes: readonly NodeSpec[], net: number, prefixLen: number,
  skipped: string[]): Route[] {
  const podNets = nodes.flatMap((n) => n.podCIDRs.map((c) => {
    const [ip, len] = c.split('/');
    return { net: parseU32(ip), len: Number(len) };
  }));
  const ips = new Set(records.flatMap((r) => [...r.body.clusterIPs, ...r.body.externalIPs, ...r.body.loadBalancerIPs].map(u32Of)));
  return [...ips].sort((a, b) => a - b).flatMap((ip) => {
    if (inSubnet(ip, net, prefixLen) || podNets.some((p) => inSubnet(ip, p.net, p.len))) {
      return skip(skipped, `service IP ${textOf(ip)}: inside the node subnet or a pod CIDR; not routed from the external client`);
    }
    return [{ dst: `${textOf(ip)}/32`, via: nodes[0].ip }];
  });
}

/** The highest host address of the subnet that no node holds. */
function freeAddress(net: number, prefixLen: number, taken: Set<number>): number {
  const broadcast = (net | ~maskOf(prefixLen)) >>> 0;
  for (let a = broadcast - 1; a > net; a--) if (!taken.has(a)) return a;
  throw new Error(`no free address in ${textOf(net)}/${prefixLen} for the external client`);
}

/** Routes a node needs besides its pods' /32s: the other nodes' pod CIDRs through their node IPs. */
export function peerRoutes(t: Topology, node: NodeSpec): Route[] {
  return t.nodes.filter((n) => n !== node && n.name !== node.name).flatMap((n) => n.podCIDRs.map((c) => ({ dst: c, via: n.ip })));
}

function skip(skipped: string[], line: string): [] {
  skipped.push(line);
  return [];
}
