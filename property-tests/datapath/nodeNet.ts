// A datapath test's node network, made for real: a namespace holding the
// node's uplink and its pods' veths (each peer in the same namespace: the
// programs only need the devices to exist), with the routes and permanent
// neighbours a NodeNet describes, and forwarding on. PROG_TEST_RUN runs a
// program in the calling thread's namespace, on the device its context's
// ifindex names, so the programs' route lookups see this network and
// nothing of the machine's.
import { run } from '../../runtime/exec/command.ts';
import { addNetns, deleteNetns, ipBatch, sysctl } from '../../runtime/exec/namespaces.ts';
import { neighboursOf, routesOf, type NodeNet } from '../model/datapath.ts';

export interface MadeNet {
  netns: string;
  /** Device name -> ifindex inside netns. */
  ifindex: ReadonlyMap<string, number>;
}

const peerOf = (dev: string) => `${dev}p`;
const neighbourLines = (net: NodeNet) => neighboursOf(net).map((n) => `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`);

/** The `ip -batch` lines that make net (inside its namespace). */
function ipLines(net: NodeNet): string[] {
  const up = net.uplink;
  return [
    'link set lo up',
    `link add ${up.name} address ${up.mac} type veth peer name ${peerOf(up.name)}`,
    ...(up.mtu ? [`link set ${up.name} mtu ${up.mtu}`] : []),
    `link set ${peerOf(up.name)} up`, `link set ${up.name} up`, `addr add ${up.addr} dev ${up.name}`,
    ...net.pods.flatMap((p) => [
      `link add ${p.dev} address ${net.hostMac} type veth peer name ${peerOf(p.dev)} address ${p.mac}`,
      `link set ${peerOf(p.dev)} up`, `link set ${p.dev} up`,
    ]),
    ...routesOf(net).filter((r) => r.dst !== up.addr).map((r) => (r.unreachable ? `route add unreachable ${r.dst}`
      : `route add ${r.dst === '0.0.0.0/0' ? 'default' : r.dst}${r.via ? ` via ${r.via}` : ''} dev ${r.dev}${r.via ? '' : ' scope link'}`)),
    ...neighbourLines(net),
  ];
}

/** Makes netns as net describes it; deletes it again if a step fails. */
export function makeNodeNet(net: NodeNet, netns: string): MadeNet {
  addNetns(netns);
  try {
    sysctl(netns, { 'net.ipv4.ip_forward': 1 });
    ipBatch(netns, ipLines(net));
    const links = JSON.parse(run(['ip', '-n', netns, '-j', 'link', 'show'])) as { ifindex: number; ifname: string }[];
    return { netns, ifindex: new Map(links.map((l) => [l.ifname, l.ifindex])) };
  } catch (e) {
    dropNodeNet(netns);
    throw e;
  }
}

export function dropNodeNet(netns: string): void {
  deleteNetns(netns);
}

/** Removes the neighbour ip on dev, as if it had never been resolved. */
export function forgetNeighbour(made: MadeNet, ip: string, dev: string): void {
  run(['ip', '-n', made.netns, 'neigh', 'del', ip, 'dev', dev]);
}

/** Puts back every neighbour net describes. */
export function restoreNeighbours(made: MadeNet, net: NodeNet): void {
  ipBatch(made.netns, neighbourLines(net));
}
