// Generated clusters for benchmarks: n ClusterIP Services, each with one
// EndpointSlice of k ready endpoints spread over three nodes. Addresses are
// derived from the index, so every run compiles the same bytes.
import type { Ip } from '../runtime/encode/ip.ts';
import type { Record } from '../runtime/encode/schema.ts';
import * as R from '../compiler/abi/records.ts';

const ip = (a: number): Ip => ({ family: 4, bytes: Uint8Array.of(a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255) });

export const SERVICE_BASE = 0x0a600000; // 10.96.0.0
const POD_BASE = 0x0af40000; // 10.244.0.0

export function service(i: number): Record {
  return {
    kind: R.KIND_SERVICE, namespace: 'bench', name: `svc-${i}`, op: 'upsert',
    body: {
      type: R.SVC_TYPE_CLUSTER_IP, flags: 0, healthCheckNodePort: 0, affinityTimeout: 0, created: 0,
      clusterIPs: [ip(SERVICE_BASE + i)], externalIPs: [], loadBalancerIPs: [], sourceRanges: [],
      ports: [{ name: 'http', proto: R.PROTO_TCP, port: 80, nodePort: 0, targetPort: 8080, targetPortName: '' }],
    },
  };
}

/** Service i's slice; generation g shifts its endpoints, as a rollout would. */
export function slice(i: number, k: number, g = 0): Record {
  return {
    kind: R.KIND_ENDPOINT_SLICE, namespace: 'bench', name: `svc-${i}-abcde`, op: 'upsert',
    body: {
      serviceName: `svc-${i}`, addressType: R.ADDR_IPV4, ports: [{ name: 'http', proto: R.PROTO_TCP, port: 8080 }],
      endpoints: Array.from({ length: k }, (_, e) => ({
        address: ip(POD_BASE + i * 16 + ((e + g) % 16)), conditions: R.COND_READY | R.COND_SERVING,
        nodeName: `node-${e % 3}`, zone: '', forZones: [],
      })),
    },
  };
}

export function cluster(n: number, k: number): Record[] {
  return Array.from({ length: n }, (_, i) => [service(i), slice(i, k)]).flat();
}
