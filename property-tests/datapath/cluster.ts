// The cluster the datapath tests run against, seen from node n1: Kubernetes
// objects (compiled by the real compiler) and the addresses of the pods,
// nodes and clients the scenarios send packets between.
import { ep, lbStatus, node, slice, svc, type Json } from '../model/kube.ts';
import { ipText, type Frame, type Ip, type L4, type Tcp, type Udp } from '../model/packet.ts';
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

export const MAC = { pod: '02:00:00:00:01:09', host: '02:00:00:00:01:01', router: '02:00:00:00:00:aa', node: '02:00:00:00:00:10', n2: '02:00:00:00:00:22' };

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
];

/** The EndpointSlice of `moving` with only these endpoints left. */
export const movingSlice = (ips: string[]) => endpoints('moving', MOVING_PORTS, ips.map((ip) => ep(ip, 'n2')));

export const tcp = (sport: number, dport: number, more: Partial<Tcp> = {}): Tcp => ({ proto: 'tcp', sport, dport, ...more });
export const udp = (sport: number, dport: number, payload = new TextEncoder().encode('query')): Udp => ({ proto: 'udp', sport, dport, payload });

/** A frame a local pod sends (sl_from_pod) or receives (sl_to_pod). */
export const podFrame = (src: string, dst: string, l4: L4, ip: Partial<Ip> = {}): Frame =>
  ({ srcMac: MAC.pod, dstMac: MAC.host, ip: { src, dst, l4, ...ip } });

/** A frame arriving at the node's interface from its router (sl_from_netdev). */
export const wireFrame = (src: string, dst: string, l4: L4, ip: Partial<Ip> = {}): Frame =>
  ({ srcMac: MAC.router, dstMac: MAC.node, ip: { src, dst, l4, ...ip } });
