import fc from 'fast-check';
import * as R from '../../compiler/abi/records.ts';
import type { SliceBody } from '../../runtime/encode/schema.ts';
import { pick, poolIp, weighted } from './pool.ts';

const { COND_SERVING: SERVING, COND_TERMINATING: TERMINATING } = R;

/** An EndpointSlice for one of the small universe's Services; endpoints repeat across slices. */
export const smallSlice = (): fc.Arbitrary<SliceBody> => fc.record({
  serviceName: pick('s1', 's2', 's3'),
  addressType: fc.oneof({ weight: 9, arbitrary: fc.constant(R.ADDR_IPV4) }, { weight: 1, arbitrary: fc.constant(R.ADDR_IPV6) }),
  ports: fc.array(fc.record({
    name: weighted([2, ''], [3, 'http'], [1, 'dns']),
    proto: weighted([6, R.PROTO_TCP], [1, R.PROTO_UDP], [1, R.PROTO_SCTP]),
    port: pick(8080, 9090, 53),
  }), { maxLength: 3 }),
  // A draining slice has no ready endpoint, so that the serving-and-terminating fallback happens.
  draining: weighted([2, false], [1, true]),
}).chain(({ draining, ...s }) => fc.array(fc.record({
  address: poolIp(...Array.from({ length: 12 }, (_, i) => `10.244.0.${i + 1}`)),
  conditions: draining ? weighted([3, SERVING | TERMINATING], [1, TERMINATING], [1, SERVING]) : fc.integer({ min: 0, max: 7 }),
  nodeName: weighted([3, 'n1'], [2, 'n2'], [1, '']),
  zone: pick('', 'z1'),
  forZones: fc.constant<string[]>([]),
}), { maxLength: 6 }).map((endpoints) => ({ ...s, endpoints })));
