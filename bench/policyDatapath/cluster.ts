// The clusters of the NetworkPolicy datapath benchmark, as `kubectl get -o
// json` would print them: the node of a lane (bench/datapath/lane.ts), its
// client pod and five server pods, and policies selecting the servers with
// any number of rules. Every kind of peer is in them, so a denied packet
// makes every lookup the datapath can make (2 hash and 6 LPM); the client
// is allowed by its labels. Pure.
import { BACKEND_IPS, CLIENT_IP } from '../datapath/lane.ts';

export const NODE = 'bench-node';
export const NODE_IP = '192.0.2.1'; // held by no interface of a lane, as in bench/datapath/snapshot.ts
/** In the client's namespace, allowed nothing: the denied peer, inside a block whose port is another. */
export const OTHER_IP = '10.244.1.11';
export const SERVER_PORTS = [80, 5201]; // acceptd (connlat) and iperf3

type Obj = { [k: string]: unknown };

const namespace = (name: string, labels: { [k: string]: string } = {}): Obj =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });

function pod(ns: string, name: string, ip: string, app: string): Obj {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { app } },
    spec: { nodeName: NODE, containers: [{ name: 'c', ports: SERVER_PORTS.map((p) => ({ containerPort: p })) }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

const policy = (name: string, ingress: Obj[]): Obj => ({
  apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: 'srv' },
  spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'], ingress },
});

/** Rule i of the filler: its own /32 in 10.200.0.0/14 on its own port. */
const filler = (i: number): Obj => ({
  from: [{ ipBlock: { cidr: `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32` } }], ports: [{ port: 1024 + (i % 60000) }],
});

/** The rules of the servers' policies: the client's, one of each other kind of peer, and fillers up to rules. */
function rules(rules: number): Obj[] {
  const fixed: Obj[] = [
    { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'clients' } }, podSelector: { matchLabels: { app: 'client' } } }],
      ports: SERVER_PORTS.map((port) => ({ port })) }, // ID
    { ports: [{ port: 7777 }] }, // ANY
    { from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }], ports: [{ port: 80 }] }, // NS
    { from: [{ namespaceSelector: {} }], ports: [{ port: 7778 }] }, // ALL_PODS
    { from: [{ ipBlock: { cidr: '10.244.1.0/24' } }], ports: [{ port: 9999 }] }, // CIDR holding OTHER_IP
  ];
  return [...fixed, ...Array.from({ length: Math.max(0, rules - fixed.length) }, (_, i) => filler(i))];
}

/** The lane's node, its pods, and (rules > 0) policies of at most 1,000 rules each selecting the servers. */
export function clusterOf(rulesWanted: number): Obj[] {
  const rs = rulesWanted > 0 ? rules(rulesWanted) : [];
  const policies = Array.from({ length: Math.ceil(rs.length / 1000) }, (_, k) => policy(`rules-${k}`, rs.slice(k * 1000, k * 1000 + 1000)));
  return [
    { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE }, spec: { podCIDR: '10.244.0.0/16', podCIDRs: ['10.244.0.0/16'] },
      status: { addresses: [{ type: 'InternalIP', address: NODE_IP }] } },
    namespace('clients'), namespace('srv'), namespace('ops', { team: 'ops' }),
    pod('clients', 'client', CLIENT_IP, 'client'), pod('clients', 'other', OTHER_IP, 'other'),
    ...BACKEND_IPS.map((ip, i) => pod('srv', `server-${i + 1}`, ip, 'server')),
    ...policies,
  ];
}

export const snapshotOf = (rules: number) => ({ apiVersion: 'v1', kind: 'List', items: clusterOf(rules) });
