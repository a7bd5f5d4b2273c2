import fc from 'fast-check';
import * as R from '../../compiler/abi/records.ts';
import type { SliceBody } from '../../runtime/encode/schema.ts';
import { pick, poolIp } from './pool.ts';

/** An EndpointSlice for one of the small universe's Services; endpoints repeat across slices. */
export const smallSlice = (): fc.Arbitrary<SliceBody> => fc.record({
  serviceName: pick('s1', 's2', 's3'),
  addressType: fc.oneof({ weight: 9, arbitrary: fc.constant(R.ADDR_IPV4) }, { weight: 1, arbitrary: fc.constant(R.ADDR_IPV6) }),
  ports: fc.array(fc.record({ name: pick('', 'http', 'dns'), proto: pick(R.PROTO_TCP, R.PROTO_UDP, R.PROTO_SCTP), port: pick(8080, 9090, 53) }),
    { maxLength: 3 }),
  endpoints: fc.array(fc.record({
    address: poolIp(...Array.from({ length: 12 }, (_, i) => `10.244.0.${i + 1}`)),
    conditions: fc.integer({ min: 0, max: 7 }),
    nodeName: pick('n1', 'n2', ''),
    zone: pick('', 'z1'),
    forZones: fc.constant([]),
  }), { maxLength: 6 }),
});
