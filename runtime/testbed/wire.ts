// Makes (and unmakes) the parts of the topology, one namespace at a time. Each
// namespace is written to the state file before it is made, so an interrupted
// run leaves nothing `testbed down` does not know of.
import { run } from '../exec/command.ts';
import { addNetns, deleteNetns, ipBatch, netnsExists, sysctl } from '../exec/namespaces.ts';
import { BRIDGE, EXTERNAL_UNDERLAY_IFACE, POD_GATEWAY, ROUTER_IP, UPLINK } from './names.ts';
import { noteNetns, writeState, type TestbedState } from './state.ts';
import { peerRoutes, type NodeSpec, type PodSpec, type Route, type Topology } from './topology.ts';

/**
 * Every namespace starts from these, whatever the root namespace has (a new
 * namespace inherits the root's IPv4 settings): no IPv6 (no DAD or router
 * solicitations in the way), no forwarding, strict reverse-path checks, no
 * local sources from outside (the kernel's default). Nodes forward and
 * check sources as a real node does (makeNode).
 */
const BASE = {
  'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1, 'net.ipv4.ip_forward': 0,
  'net.ipv4.conf.all.rp_filter': 1, 'net.ipv4.conf.default.rp_filter': 1,
  'net.ipv4.conf.all.accept_local': 0, 'net.ipv4.conf.default.accept_local': 0,
};

function newNetns(state: TestbedState, netns: string, settings: { [key: string]: number }): void {
  noteNetns(state, netns);
  if (netnsExists(netns)) throw new Error(`network namespace ${netns} exists already: another testbed's, or left over (sluice testbed down --prefix ${state.prefix})`);
  addNetns(netns);
  sysctl(netns, { ...BASE, ...settings }); // before any link, so every link inherits "default"
}

/**
 * The underlay. Bridged: a namespace with one bridge and no addresses, the
 * nodes and the external client on one L2 segment. Routed: a router
 * namespace with a link to each of them, holding ROUTER_IP on every link;
 * node-to-node traffic takes two routed hops, and the next hop to another
 * node's pods is the router. It checks sources strictly, as BASE has it.
 */
export function makeUnderlay(state: TestbedState): void {
  const ul = state.underlay.netns;
  if (state.wiring === 'routed') {
    newNetns(state, ul, { 'net.ipv4.ip_forward': 1 });
    ipBatch(ul, ['link set lo up']);
    return;
  }
  newNetns(state, ul, {});
  ipBatch(ul, ['link set lo up', `link add ${BRIDGE} type bridge stp_state 0 forward_delay 0`, `link set ${BRIDGE} up`]);
}

/**
 * A veth from the underlay to UPLINK in netns, whose host (ip) sits behind
 * it: a bridge port, or a router link routing ip and the prefixes behind
 * it there. Returns the routes UPLINK's side needs to reach the others.
 */
function plugIn(state: TestbedState, port: string, netns: string, ip: string, behind: readonly string[] = []): string[] {
  const ul = state.underlay.netns;
  ipBatch(ul, [`link add ${port} type veth peer name ${UPLINK} netns ${netns}`, `link set ${port} up`]);
  if (state.wiring !== 'routed') {
    ipBatch(ul, [`link set ${port} master ${BRIDGE}`]);
    return [];
  }
  ipBatch(ul, [
    `addr add ${ROUTER_IP}/32 dev ${port}`, `route add ${ip}/32 dev ${port} scope link`,
    ...behind.map((dst) => `route add ${dst} via ${ip} dev ${port}`),
  ]);
  return [`route add ${ROUTER_IP} dev ${UPLINK} scope link`, `route add default via ${ROUTER_IP} dev ${UPLINK}`];
}

/** The address length on UPLINK: the underlay's subnet when bridged, the host alone when routed. */
const uplinkPrefix = (state: TestbedState) => (state.wiring === 'routed' ? 32 : state.underlay.prefixLen);

/** The external client: on the underlay, never forwards. Its routes to pod CIDRs and service IPs come once the nodes are there (syncExternalRoutes). */
export function makeExternal(state: TestbedState): void {
  const ext = state.external;
  newNetns(state, ext.netns, { 'net.ipv4.conf.all.accept_redirects': 0, 'net.ipv4.conf.default.accept_redirects': 0 });
  ipBatch(ext.netns, ['link set lo up', ...state.clientIps.map((ip) => `addr add ${ip}/32 dev lo`)]);
  const gateway = plugIn(state, EXTERNAL_UNDERLAY_IFACE, ext.netns, ext.ip, state.clientIps.map((ip) => `${ip}/32`));
  ipBatch(ext.netns, [`addr add ${ext.ip}/${uplinkPrefix(state)} dev ${UPLINK}`, `link set ${UPLINK} up`, ...gateway]);
}

/**
 * Brings the routes to pod CIDRs and service IPs (via nodes) to routes:
 * removes the others, replaces these. The external client's own when
 * bridged; when routed, the router's (the client's default route is it,
 * and the nodes' too).
 */
export function syncExternalRoutes(state: TestbedState, routes: readonly Route[]): void {
  const ext = state.external;
  const keep = new Set(routes.map((r) => r.dst));
  const [netns, dev] = state.wiring === 'routed' ? [state.underlay.netns, ''] : [ext.netns, ` dev ${UPLINK}`];
  ipBatch(netns, [
    ...ext.routes.filter((r) => !keep.has(r.dst)).map((r) => `route del ${r.dst}`),
    ...routes.map((r) => `route replace ${r.dst} via ${r.via}${dev}`),
  ]);
  ext.routes = [...routes];
  writeState(state);
}

/**
 * A node: a real node's defaults (the kernel's, or systemd's rp_filter=2, as
 * state.rpFilter says; accept_local=0) plus forwarding. Nothing that only
 * sluice needs: it must do without (its datapath forwards past the stack
 * what the stack would refuse), and the testbed must not hide it if not.
 * Bridged, it reaches the other nodes' pod CIDRs through their addresses
 * and the rest through the external client; routed, all through the router.
 */
export function makeNode(state: TestbedState, t: Topology, node: NodeSpec): void {
  newNetns(state, node.netns, {
    'net.ipv4.ip_forward': 1,
    'net.ipv4.conf.all.rp_filter': state.rpFilter, 'net.ipv4.conf.default.rp_filter': state.rpFilter,
  });
  const gateway = plugIn(state, node.underlayIface, node.netns, node.ip);
  const routes = state.wiring === 'routed' ? gateway : [
    ...peerRoutes(t, node).map((r) => `route add ${r.dst} via ${r.via} dev ${UPLINK}`),
    `route add default via ${state.external.ip} dev ${UPLINK}`,
  ];
  ipBatch(node.netns, [
    'link set lo up', `addr add ${node.ip}/${uplinkPrefix(state)} dev ${UPLINK}`, `link set ${UPLINK} up`,
    // unused IPs of the own pod CIDR: an ICMP error, not a loop through the default route
    ...node.podCIDRs.map((c) => `route add unreachable ${c}`),
    ...routes,
  ]);
}

/**
 * A pod: eth0 with podIP/32 and a default route via the link-local gateway,
 * which the host side answers by proxy ARP; the node routes podIP/32 to the
 * host side. The host side has no address, as with Calico.
 */
export function makePod(state: TestbedState, pod: PodSpec): void {
  const node = state.nodes.find((n) => n.name === pod.node)!;
  newNetns(state, pod.netns, {});
  ipBatch(node.netns, [`link add ${pod.hostIface} type veth peer name ${UPLINK} netns ${pod.netns}`, `link set ${pod.hostIface} up`]);
  sysctl(node.netns, { [`net.ipv4.conf.${pod.hostIface}.proxy_arp`]: 1, [`net.ipv4.neigh.${pod.hostIface}.proxy_delay`]: 0 });
  ipBatch(pod.netns, [
    'link set lo up', `addr add ${pod.ip}/32 dev ${UPLINK}`, `link set ${UPLINK} up`,
    `route add ${POD_GATEWAY} dev ${UPLINK} scope link`, `route add default via ${POD_GATEWAY} dev ${UPLINK}`,
  ]);
  ipBatch(node.netns, [`route add ${pod.ip}/32 dev ${pod.hostIface} scope link`]);
}

/** Removes a pod's veth and namespace (its echo server must be stopped first). */
export function removePod(state: TestbedState, pod: PodSpec): void {
  const node = state.nodes.find((n) => n.name === pod.node);
  if (node && netnsExists(node.netns)) {
    try {
      run(['ip', '-n', node.netns, 'link', 'del', pod.hostIface]);
    } catch {
      // never made, or gone with its peer: deleting the namespace is what matters
    }
  }
  deleteNetns(pod.netns);
  state.netns = state.netns.filter((n) => n !== pod.netns);
  writeState(state);
}
