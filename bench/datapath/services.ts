// The cluster every dataplane of the datapath benchmark is given: n ClusterIP
// Services of one TCP port with 5 endpoints each. Only the last Service added
// (the probe) has real endpoints, the backend pods of the lane; the others
// point at addresses no packet is ever sent to. Pure.
import { BACKEND_IPS } from './lane.ts';

export interface BenchService {
  index: number;
  namespace: string;
  name: string;
  portName: string;
  vip: string;
  port: number;
  targetPort: number;
  endpoints: string[];
  /** A NodePort Service (externalTrafficPolicy Cluster) when set; else ClusterIP. */
  nodePort?: number;
  /** The node of the endpoints (the EndpointSlice's nodeName); default the one-node benchmark's. */
  node?: string;
}

/** The probe: 'http' is port 80 on all five backends (acceptd); 'iperf' is port 5201 on the first only (iperf3 needs one server). */
export type Probe = 'http' | 'iperf';

export const ENDPOINTS_PER_SERVICE = 5;
const VIP_BASE = 0x0a600001; // 10.96.0.1
const FAKE_BASE = 0x0af50000; // 10.245.0.0: in the cluster CIDR, never routed

const ipOf = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

/** n ClusterIP Services of port 80, 10.96.0.1 upwards, whose endpoints are addresses nothing is sent to. */
export function fakeServices(n: number): BenchService[] {
  return Array.from({ length: n }, (_, i) => {
    const endpoints = Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, j) => ipOf(FAKE_BASE + ENDPOINTS_PER_SERVICE * i + j + 1));
    return { index: i, namespace: `ns${Math.floor(i / 100)}`, name: `svc${i}`, vip: ipOf(VIP_BASE + i), portName: 'p80', port: 80, targetPort: 80, endpoints };
  });
}

export function benchServices(n: number, probe: Probe): BenchService[] {
  const services = fakeServices(n);
  const last = services[n - 1];
  services[n - 1] = probe === 'http'
    ? { ...last, endpoints: [...BACKEND_IPS] }
    : { ...last, portName: 'iperf', port: 5201, targetPort: 5201, endpoints: [BACKEND_IPS[0]] };
  return services;
}

/** "namespace/name:port" as kube-proxy names a service port. */
export const servicePortName = (s: BenchService) => `${s.namespace}/${s.name}:${s.portName}`;
