// One lane: the namespaces one dataplane is measured in. Every lane of a run
// exists at the same time, so samples of all dataplanes interleave; they are
// alike except for what is loaded into the node namespace.
//
//   <p>-<lane>-cli  10.244.1.10 ──veth── <p>-<lane>-node ──veth── <p>-<lane>-be1..5  10.244.2.11-15
//                        vclient   ip_forward=1, rp_filter=0    vbe1..5
//                                  10.244.0.1/32 on each host-side veth, /32 route per pod;
//                                  the dataplane under test lives here
//
// Pods route everything via 10.244.0.1. Nothing is made in the root
// namespace and the node namespace has no other link, so traffic stays in
// the lane. Addresses repeat across lanes: each lane is a world of its own.
import { cpus } from 'node:os';
import { nsenter, run } from '../../runtime/exec/command.ts';
import { addNetns, ipBatch, sysctl } from '../../runtime/exec/namespaces.ts';
import type { Tool } from './setup.ts';

export const CLIENT_IP = '10.244.1.10';
export const NODE_GW = '10.244.0.1';
export const BACKEND_IPS = ['10.244.2.11', '10.244.2.12', '10.244.2.13', '10.244.2.14', '10.244.2.15'] as const;
export const CLIENT_IFACE = 'vclient';
export const BACKEND_IFACES = BACKEND_IPS.map((_, i) => `vbe${i + 1}`);

export interface Lane {
  name: string;
  mtu: number;
  node: string;
  client: string;
  backends: string[];
}

/**
 * CPUs of the lane's processes: servers on the first, clients on the last.
 * A client that lands on the servers' CPU now and then measures ~10 µs more
 * per connect there, which would widen every figure's spread.
 */
export const SERVER_CPU = 0;
export const CLIENT_CPU = Math.max(0, cpus().length - 1);

export const laneNamespaces = (l: Lane) => [l.node, l.client, ...l.backends];

export function laneOf(prefix: string, name: string, mtu: number): Lane {
  const ns = (part: string) => `${prefix}-${name}-${part}`;
  return { name, mtu, node: ns('node'), client: ns('cli'), backends: BACKEND_IPS.map((_, i) => ns(`be${i + 1}`)) };
}

const NO_IPV6 = { 'net.ipv6.conf.all.disable_ipv6': 1, 'net.ipv6.conf.default.disable_ipv6': 1 };

/** A pod namespace on a veth to the node; hostIface is the node's side. */
function addPod(l: Lane, ns: string, ip: string, hostIface: string): void {
  addNetns(ns);
  sysctl(ns, NO_IPV6);
  ipBatch(l.node, [
    `link add ${hostIface} mtu ${l.mtu} type veth peer name eth0 netns ${ns} mtu ${l.mtu}`,
    `addr add ${NODE_GW}/32 dev ${hostIface}`, `link set ${hostIface} up`,
  ]);
  ipBatch(ns, [
    'link set lo up', `addr add ${ip}/32 dev eth0`, 'link set eth0 up',
    `route add ${NODE_GW} dev eth0 scope link`, `route add default via ${NODE_GW} dev eth0`,
  ]);
  ipBatch(l.node, [`route add ${ip}/32 dev ${hostIface} scope link src ${NODE_GW}`]);
}

/** Makes the lane's namespaces; note(ns) is called before each is made, so a failure leaves nothing unknown. */
export function makeLane(l: Lane, note: (ns: string) => void): void {
  note(l.node);
  addNetns(l.node);
  sysctl(l.node, { ...NO_IPV6, 'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 });
  ipBatch(l.node, ['link set lo up']);
  note(l.client);
  addPod(l, l.client, CLIENT_IP, CLIENT_IFACE);
  l.backends.forEach((ns, i) => {
    note(ns);
    addPod(l, ns, BACKEND_IPS[i], BACKEND_IFACES[i]);
  });
}

/** Fills the neighbour tables with one connect() to each backend (answered or refused), so no measured SYN waits for ARP. */
export function primeNeighbours(l: Lane, connlat: Tool, port: number): void {
  for (const ip of BACKEND_IPS) {
    try {
      run(nsenter(l.client, [connlat, '-a', ip, '-p', String(port), '-c', '1', '-w', '0', '-l', '2']), { timeoutMs: 5_000 });
    } catch {
      // refused (no server on that backend) is fine: the neighbour entry is there all the same
    }
  }
}

