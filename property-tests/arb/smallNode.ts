import fc from 'fast-check';
import * as R from '../../compiler/abi/records.ts';
import type { NodeBody } from '../../runtime/encode/schema.ts';
import { pick, poolIp } from './pool.ts';

/** A Node whose addresses come from a small pool. */
export const smallNode = (): fc.Arbitrary<NodeBody> => fc.record({
  addresses: fc.array(fc.record({
    type: pick(R.NODE_ADDR_INTERNAL, R.NODE_ADDR_EXTERNAL),
    ip: poolIp('192.168.50.10', '192.168.50.11', '198.51.100.7'),
  }), { maxLength: 3 }),
  podCIDRs: fc.constant([]),
  labels: fc.constant([]),
});
