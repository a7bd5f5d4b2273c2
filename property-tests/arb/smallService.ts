import fc from 'fast-check';
import * as R from '../../compiler/abi/records.ts';
import type { ServiceBody } from '../../runtime/encode/schema.ts';
import { pick, poolCidrs, poolIps, weighted } from './pool.ts';

/** A Service from a small universe: shared IPs, ports and names; mostly TCP, so slices match it. */
export const smallService = (): fc.Arbitrary<ServiceBody> => fc.record({
  type: weighted([3, R.SVC_TYPE_CLUSTER_IP], [3, R.SVC_TYPE_NODE_PORT], [3, R.SVC_TYPE_LOAD_BALANCER], [1, R.SVC_TYPE_EXTERNAL_NAME]),
  flags: fc.tuple(fc.subarray([R.SVCF_EXTERNAL_LOCAL, R.SVCF_INTERNAL_LOCAL, R.SVCF_AFFINITY]), weighted([9, 0], [1, R.SVCF_HEADLESS]))
    .map(([fs, headless]) => fs.reduce((a, b) => a | b, headless)),
  healthCheckNodePort: pick(0, 32000),
  affinityTimeout: pick(10800, 30),
  created: pick(0, 1700000000, 1700000001),
  clusterIPs: poolIps(2, '10.96.0.1', '10.96.0.2', '10.96.0.3'),
  // The pools overlap (a ClusterIP among the externalIPs, an externalIP among the
  // LoadBalancer IPs), so Services contest frontends: precedence.
  externalIPs: poolIps(2, '192.0.2.1', '192.0.2.2', '10.96.0.1'),
  loadBalancerIPs: poolIps(2, '203.0.113.1', '203.0.113.2', '192.0.2.1'),
  sourceRanges: poolCidrs(2, '10.0.0.0/8', '192.168.0.0/16', '0.0.0.0/0'),
  ports: fc.array(fc.record({
    name: weighted([2, ''], [3, 'http'], [1, 'dns']),
    proto: weighted([6, R.PROTO_TCP], [1, R.PROTO_UDP], [1, R.PROTO_SCTP]),
    port: pick(53, 80, 443),
    nodePort: pick(0, 30000, 30001),
    targetPort: pick(0, 8080),
    targetPortName: pick('', 'web'),
  }), { minLength: 1, maxLength: 3 }),
});
