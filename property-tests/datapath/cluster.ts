// The cluster the datapath tests run against, seen from node n1: Kubernetes
// objects (compiled by the real compiler) and the addresses of the pods,
// nodes and clients the scenarios send packets between.
import type { NodeNet } from '../model/datapath.ts';
import { ep, lbStatus, node, slice, svc, type Json } from '../model/kube.ts';
import { ipText, type Frame, type Ip, type L4, type Raw, type Tcp, type Udp } from '../../testkit/packet.ts';
import { CONFIG } from './harness.ts';

export const NODE = 'n1';
export const NODE_IP = ipText(CONFIG.nodeIp); // n1's InternalIP, and sl_cfg.node_ip
export const N2_IP = '192.168.1.11'; // n2's InternalIP: where REMOTE_BE live
export const HAIRPIN_IP = ipText(CONFIG.hairpinIp); // sl_cfg.hairpin_ip

export const CLIENT_POD = '10.244.1.9'; // a pod on n1
export const LOCAL_BE = '10.244.1.5'; // a backend pod on n1
export const REMOTE_BE = ['10.244.2.6', '10.244.2.7']; // backend pods on n2
export const EXTERNAL = '192.0.2.50'; // a client outside the cluster
export const IN_RANGE = '198.51.100.7'; // a client inside lb's loadBalancerSourceRanges
export const ROUTER = '10.0.0.1'; // sends ICMP errors
export const GATEWAY = '192.168.1.1'; // the nodes' default gateway, toward clients outside
export const POD_CIDR = { n1: '10.244.1.0/24', n2: '10.244.2.0/24' };

export const MAC = {
  pod: '02:00:00:00:01:09', // CLIENT_POD
  localBe: '02:00:00:00:01:05', // LOCAL_BE
  remoteBe: ['02:00:00:00:02:06', '02:00:00:00:02:07'], // REMOTE_BE, on n2
  host: '02:00:00:00:01:01', // the host side of every pod's veth
  router: '02:00:00:00:00:aa', // GATEWAY
  node: '02:00:00:00:00:10', // n1's uplink
  n2: '02:00:00:00:00:22', // n2's uplink
};

/** The nodes' networks (model/datapath.ts): an uplink on 192.168.1.0/24, the default route via GATEWAY, the other node's pods via it. */
export const NODE_NETS: { [node: string]: NodeNet } = {
  n1: {
    uplink: { name: 'eth0', mac: MAC.node, addr: `${NODE_IP}/24` },
    hostMac: MAC.host,
    pods: [{ ip: CLIENT_POD, mac: MAC.pod, dev: 'slpclient' }, { ip: LOCAL_BE, mac: MAC.localBe, dev: 'slplocalbe' }],
    routes: [{ dst: POD_CIDR.n1, unreachable: true }, { dst: POD_CIDR.n2, via: N2_IP, dev: 'eth0' }, { dst: '0.0.0.0/0', via: GATEWAY, dev: 'eth0' }],
    neighbours: [{ ip: GATEWAY, mac: MAC.router, dev: 'eth0' }, { ip: N2_IP, mac: MAC.n2, dev: 'eth0' }],
    peerPodCidrs: [POD_CIDR.n2],
  },
  n2: {
    uplink: { name: 'eth0', mac: MAC.n2, addr: `${N2_IP}/24` },
    hostMac: MAC.host,
    pods: [{ ip: REMOTE_BE[0], mac: MAC.remoteBe[0], dev: 'slpbe0' }, { ip: REMOTE_BE[1], mac: MAC.remoteBe[1], dev: 'slpbe1' }],
    routes: [{ dst: POD_CIDR.n2, unreachable: true }, { dst: POD_CIDR.n1, via: NODE_IP, dev: 'eth0' }, { dst: '0.0.0.0/0', via: GATEWAY, dev: 'eth0' }],
    neighbours: [{ ip: GATEWAY, mac: MAC.router, dev: 'eth0' }, { ip: NODE_IP, mac: MAC.node, dev: 'eth0' }],
    peerPodCidrs: [POD_CIDR.n1],
  },
};

/** A ClusterIP (or other) Service with one port per [name, proto, port, targetPort, nodePort?]. */
const service = (name: string, clusterIP: string, ports: [string, string, number, number, number?][], more: Json = {}, status?: Json) =>
  svc(`default/${name}`, {
    clusterIP, clusterIPs: [clusterIP],
    ports: ports.map(([n, protocol, port, targetPort, nodePort]) => ({ name: n, protocol, port, targetPort, ...(nodePort ? { nodePort } : {}) })),
    ...more,
  }, status);

const endpoints = (name: string, ports: [string, string, number][], eps: Json[]) =>
  slice(`default/${name}-1`, name, ports.map(([n, protocol, port]) => ({ name: n, protocol, port })), eps);

const web = [...REMOTE_BE.map((ip) => ep(ip, 'n2')), ep(LOCAL_BE, NODE)];

export const VIP = {
  web: '10.96.0.10', // TCP 80 -> 8080, UDP 53 -> 5353; three backends
  empty: '10.96.0.20', // TCP 80, UDP 53; no endpoints
  sticky: '10.96.0.30', // TCP 80 -> 8080, sessionAffinity ClientIP; the web backends
  lbCluster: '10.96.0.40', lb: '203.0.113.40', // LoadBalancer 443 -> 8443 (nodePort 30443), source ranges
  local: '10.96.0.50', // NodePort 30080 -> LOCAL_BE:8080
  remote: '10.96.0.60', // NodePort 30081 -> REMOTE_BE[0]:8080
  self: '10.96.0.70', // TCP 80 -> CLIENT_POD:8080 (hairpin)
  moving: '10.96.0.80', // UDP 53 and TCP 53 -> 5353 on both REMOTE_BE
  etp: '10.96.0.90', // NodePort 30090 with externalTrafficPolicy Local, backend on n2 only
  udpRemote: '10.96.0.100', // NodePort UDP 53 -> 5353 (nodePort 30053) -> REMOTE_BE[1]
  hostnet: '10.96.0.110', // TCP 443 -> n1's own address:6443 (a host-network backend)
};

export const NODE_PORT = { lb: 30443, local: 30080, remote: 30081, etp: 30090, udpRemote: 30053 };

export const MOVING_PORTS: [string, string, number][] = [['dns', 'UDP', 5353], ['dns-tcp', 'TCP', 5353]];

export const OBJECTS: Json[] = [
  node(NODE, NODE_IP),
  node('n2', N2_IP),
  service('web', VIP.web, [['http', 'TCP', 80, 8080], ['dns', 'UDP', 53, 5353]]),
  endpoints('web', [['http', 'TCP', 8080], ['dns', 'UDP', 5353]], web),
  service('empty', VIP.empty, [['http', 'TCP', 80, 8080], ['dns', 'UDP', 53, 5353]]),
  service('sticky', VIP.sticky, [['http', 'TCP', 80, 8080]], { sessionAffinity: 'ClientIP' }),
  endpoints('sticky', [['http', 'TCP', 8080]], web),
  service('lb', VIP.lbCluster, [['https', 'TCP', 443, 8443, NODE_PORT.lb]],
    { type: 'LoadBalancer', loadBalancerSourceRanges: ['198.51.100.0/24'] }, lbStatus(VIP.lb)),
  endpoints('lb', [['https', 'TCP', 8443]], [ep(REMOTE_BE[0], 'n2')]),
  service('local', VIP.local, [['http', 'TCP', 80, 8080, NODE_PORT.local]], { type: 'NodePort' }),
  endpoints('local', [['http', 'TCP', 8080]], [ep(LOCAL_BE, NODE)]),
  service('remote', VIP.remote, [['http', 'TCP', 80, 8080, NODE_PORT.remote]], { type: 'NodePort' }),
  endpoints('remote', [['http', 'TCP', 8080]], [ep(REMOTE_BE[0], 'n2')]),
  service('self', VIP.self, [['http', 'TCP', 80, 8080]]),
  endpoints('self', [['http', 'TCP', 8080]], [ep(CLIENT_POD, NODE)]),
  service('moving', VIP.moving, [['dns', 'UDP', 53, 5353], ['dns-tcp', 'TCP', 53, 5353]]),
  endpoints('moving', MOVING_PORTS, REMOTE_BE.map((ip) => ep(ip, 'n2'))),
  service('etp', VIP.etp, [['http', 'TCP', 80, 8080, NODE_PORT.etp]], { type: 'NodePort', externalTrafficPolicy: 'Local' }),
  endpoints('etp', [['http', 'TCP', 8080]], [ep(REMOTE_BE[1], 'n2')]),
  service('udp-remote', VIP.udpRemote, [['dns', 'UDP', 53, 5353, NODE_PORT.udpRemote]], { type: 'NodePort' }),
  endpoints('udp-remote', [['dns', 'UDP', 5353]], [ep(REMOTE_BE[1], 'n2')]),
  service('hostnet', VIP.hostnet, [['https', 'TCP', 443, 6443]]),
  endpoints('hostnet', [['https', 'TCP', 6443]], [ep(NODE_IP, NODE)]),
];

/** The EndpointSlice of `moving` with only these endpoints left. */
export const movingSlice = (ips: string[]) => endpoints('moving', MOVING_PORTS, ips.map((ip) => ep(ip, 'n2')));

export const tcp = (sport: number, dport: number, more: Partial<Tcp> = {}): Tcp => ({ proto: 'tcp', sport, dport, ...more });
export const udp = (sport: number, dport: number, payload = new TextEncoder().encode('query')): Udp => ({ proto: 'udp', sport, dport, payload });

/** An SCTP packet: the common header (ports, verification tag, a checksum nothing here checks) and an empty DATA chunk header. */
export const sctp = (sport: number, dport: number): Raw =>
  ({ proto: 'raw', number: 132, payload: Uint8Array.from([sport >> 8, sport & 255, dport >> 8, dport & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4]) });

/** A frame a local pod sends (sl_from_pod) or receives (sl_to_pod). */
export const podFrame = (src: string, dst: string, l4: L4, ip: Partial<Ip> = {}): Frame =>
  ({ srcMac: MAC.pod, dstMac: MAC.host, ip: { src, dst, l4, ...ip } });

/** A frame arriving at the node's interface from its router (sl_from_netdev). */
export const wireFrame = (src: string, dst: string, l4: L4, ip: Partial<Ip> = {}): Frame =>
  ({ srcMac: MAC.router, dstMac: MAC.node, ip: { src, dst, l4, ...ip } });

/** The pods behind the addresses above (labels app=client, app=web), for NetworkPolicy. */
export const PODS: Json[] = [
  policyPod('client', CLIENT_POD, NODE, 'client'),
  policyPod('web-local', LOCAL_BE, NODE, 'web'),
  ...REMOTE_BE.map((ip, i) => policyPod(`web-r${i}`, ip, 'n2', 'web')),
];

function policyPod(name: string, ip: string, nodeName: string, app: string): Json {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app } },
    spec: { nodeName, containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

/** A NetworkPolicy in namespace default. */
export const netpol = (name: string, spec: Json): Json =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'default' }, spec });

/** The test cluster with its pods and these policies. */
export const withPolicies = (...policies: Json[]): Json[] => [...OBJECTS, ...PODS, ...policies];

/** The pods selected by app=<app>. */
export const app = (name: string): Json => ({ matchLabels: { app: name } });
