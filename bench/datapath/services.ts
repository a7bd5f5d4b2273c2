// The cluster every dataplane of the datapath benchmark is given: n ClusterIP
// Services of the synthetic cluster (testkit/syntheticCluster.ts), 5
// endpoints each. Only the last Service added (the probe) has real
// endpoints, the backend pods of the lane; the others point at addresses no
// packet is ever sent to. Pure.
import { syntheticServices, type SyntheticService } from '../../testkit/syntheticCluster.ts';
import { BACKEND_IPS } from './lane.ts';
import { BENCH_NODE } from './snapshot.ts';

export type BenchService = SyntheticService;

/** The probe: 'http' is port 80 on all five backends (acceptd); 'iperf' is port 5201 on the first only (iperf3 needs one server). */
export type Probe = 'http' | 'iperf';

/** n ClusterIP Services of port 80, 10.96.0.1 upwards, whose endpoints are addresses nothing is sent to, on the one-node benchmark's node. */
export const fakeServices = (n: number): BenchService[] => syntheticServices(n, { node: BENCH_NODE });

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
