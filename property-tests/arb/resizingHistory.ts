import fc from 'fast-check';
import * as R from '../../compiler/abi/records.ts';
import type { Record } from '../../runtime/encode/schema.ts';
import { pick, poolIp, poolIps } from './pool.ts';

const ns = pick('a', 'b');
const serviceName = pick('s1', 's2');
const PORTS = [
  { name: '', proto: R.PROTO_TCP, port: 80, nodePort: 0, targetPort: 8080, targetPortName: '' },
  { name: 'http', proto: R.PROTO_TCP, port: 443, nodePort: 0, targetPort: 8080, targetPortName: '' },
];

/** A Service of a few frontends per port (ClusterIPs, externalIPs and LoadBalancer IPs shared
 * between Services, so that they contest frontends), with affinity and
 * externalTrafficPolicy=Local on or off. */
const service = (): fc.Arbitrary<Record> => fc.record({
  namespace: ns, name: serviceName,
  type: pick(R.SVC_TYPE_CLUSTER_IP, R.SVC_TYPE_LOAD_BALANCER),
  flags: fc.subarray([R.SVCF_EXTERNAL_LOCAL, R.SVCF_AFFINITY]).map((fs) => fs.reduce((a, b) => a | b, 0)),
  clusterIPs: poolIp('10.96.0.1', '10.96.0.2').map((ip) => [ip]),
  externalIPs: poolIps(1, '192.0.2.1', '10.96.0.1'),
  loadBalancerIPs: poolIps(1, '203.0.113.1'),
  ports: fc.subarray(PORTS, { minLength: 1 }),
}).map(({ namespace, name, ...b }): Record => ({ kind: R.KIND_SERVICE, op: 'upsert', namespace, name,
  body: { ...b, healthCheckNodePort: 0, affinityTimeout: 10800, created: 0, sourceRanges: [] } }));

/** A slice of 0-10 ready endpoints for both ports, some on this node (n1): so that a backend set
 * crosses the steps of the table ladder (1, 2, 3-4, 5-8, 9-16 backends) either way. */
const slice = (): fc.Arbitrary<Record> => fc.record({
  namespace: ns, name: pick('e1', 'e2'), serviceName,
  first: fc.nat(15), n: fc.integer({ min: 0, max: 10 }), local: fc.nat(10),
}).map(({ namespace, name, serviceName: s, first, n, local }): Record => ({ kind: R.KIND_ENDPOINT_SLICE, op: 'upsert', namespace, name, body: {
  serviceName: s, addressType: R.ADDR_IPV4, ports: PORTS.map((p) => ({ name: p.name, proto: p.proto, port: p.targetPort })),
  endpoints: Array.from({ length: n }, (_, i) => ({
    address: { family: 4 as const, bytes: Uint8Array.of(10, 244, 0, 1 + ((first + i) % 16)) },
    conditions: R.COND_READY | R.COND_SERVING, nodeName: i < local ? 'n1' : 'n2', zone: '', forZones: [],
  })),
} }));

const gone = (): fc.Arbitrary<Record> => fc.record({ namespace: ns, name: pick('s1', 's2', 'e1', 'e2') })
  .map((r): Record => ({ kind: r.name.startsWith('s') ? R.KIND_SERVICE : R.KIND_ENDPOINT_SLICE, op: 'delete', ...r }));

/** A history of two Services in two namespaces whose backend counts go up and down across the
 * steps of the table ladder, as the runtime hands it to the compiler in batches. */
export const resizingHistory = (): fc.Arbitrary<Record[][]> => fc.array(
  fc.array(fc.oneof({ weight: 2, arbitrary: service() }, { weight: 5, arbitrary: slice() }, { weight: 1, arbitrary: gone() }), { minLength: 1, maxLength: 4 }),
  { minLength: 2, maxLength: 8 },
);
