// Makes (and unmakes) the parts of the topology, one namespace at a time. Each
// namespace is written to the state file before it is made, so an interrupted
// run leaves nothing `testbed down` does not know of.
import { addNetns, deleteNetns, ipBatch, netnsExists, run, sysctl } from './netns.ts';
import { BRIDGE, EXTERNAL_UNDERLAY_IFACE, POD_GATEWAY, UPLINK } from './names.ts';
import { noteNetns, writeState, type TestbedState } from './state.ts';
import { peerRoutes, type NodeSpec, type PodSpec, type Route, type Topology } from './topology.ts';

/**
 * Every namespace starts from these, whatever the root namespace has (a new
 * namespace inherits the root's IPv4 settings): no IPv6 (no DAD or router
 * solicitations in the way), no forwarding, strict reverse-path checks.
 * Nodes relax them (makeNode).
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

/** The underlay: a namespace with one bridge and no addresses. */
export function makeUnderlay(state: TestbedState): void {
  newNetns(state, state.underlay.netns, {});
  ipBatch(state.underlay.netns, ['link set lo up', `link add ${BRIDGE} type bridge stp_state 0 forward_delay 0`, `link set ${BRIDGE} up`]);
}

/** A veth from the bridge to UPLINK in netns. */
function plugIn(state: TestbedState, port: string, netns: string): void {
  ipBatch(state.underlay.netns, [
    `link add ${port} type veth peer name ${UPLINK} netns ${netns}`, `link set ${port} master ${BRIDGE}`, `link set ${port} up`,
  ]);
}

/** The external client: on the underlay, routes to pod CIDRs and service IPs, never forwards. */
export function makeExternal(state: TestbedState, routes: readonly Route[]): void {
  const ext = state.external;
  newNetns(state, ext.netns, { 'net.ipv4.conf.all.accept_redirects': 0, 'net.ipv4.conf.default.accept_redirects': 0 });
  plugIn(state, EXTERNAL_UNDERLAY_IFACE, ext.netns);
  ipBatch(ext.netns, [
    'link set lo up', ...state.clientIps.map((ip) => `addr add ${ip}/32 dev lo`),
    `addr add ${ext.ip}/${state.underlay.prefixLen} dev ${UPLINK}`, `link set ${UPLINK} up`,
  ]);
  syncExternalRoutes(state, routes);
}

/** Brings the external client's routes to routes: removes the others, replaces these. */
export function syncExternalRoutes(state: TestbedState, routes: readonly Route[]): void {
  const ext = state.external;
  const keep = new Set(routes.map((r) => r.dst));
  ipBatch(ext.netns, [
    ...ext.routes.filter((r) => !keep.has(r.dst)).map((r) => `route del ${r.dst}`),
    ...routes.map((r) => `route replace ${r.dst} via ${r.via} dev ${UPLINK}`),
  ]);
  ext.routes = [...routes];
  writeState(state);
}

/**
 * A node: forwards; sends no ICMP redirects (the external client must keep
 * sending service traffic to the node it chose); and checks sources loosely
 * where the datapath's translation needs it:
 * - rp_filter=0: after reverse translation a reply's source is a service IP,
 *   which the node routes out of eth0 (default route), not to the pod's veth
 *   it arrives on: strict checking would drop it;
 * - accept_local=1: a NodePort reply leaves the pod's veth with the node's
 *   own IP as its source (reverse DNAT in sl_from_pod); without this the
 *   stack drops it as a martian (checked: NodePort times out without it).
 */
export function makeNode(state: TestbedState, t: Topology, node: NodeSpec): void {
  newNetns(state, node.netns, {
    'net.ipv4.ip_forward': 1,
    'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0,
    'net.ipv4.conf.all.accept_local': 1, 'net.ipv4.conf.default.accept_local': 1,
    'net.ipv4.conf.all.send_redirects': 0, 'net.ipv4.conf.default.send_redirects': 0,
  });
  plugIn(state, node.underlayIface, node.netns);
  ipBatch(node.netns, [
    'link set lo up', `addr add ${node.ip}/${state.underlay.prefixLen} dev ${UPLINK}`, `link set ${UPLINK} up`,
    ...peerRoutes(t, node).map((r) => `route add ${r.dst} via ${r.via} dev ${UPLINK}`),
    // unused IPs of the own pod CIDR: an ICMP error, not a loop through the default route
    ...node.podCIDRs.map((c) => `route add unreachable ${c}`),
    `route add default via ${state.external.ip} dev ${UPLINK}`,
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
      run('ip', ['-n', node.netns, 'link', 'del', pod.hostIface]);
    } catch {
      // never made, or gone with its peer: deleting the namespace is what matters
    }
  }
  deleteNetns(pod.netns);
  state.netns = state.netns.filter((n) => n !== pod.netns);
  writeState(state);
}
