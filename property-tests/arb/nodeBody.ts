import fc from 'fast-check';
import { plain } from './plain.ts';
import type { NodeBody } from '../../runtime/encode/schema.ts';
import { cidr } from './cidr.ts';
import { ip } from './ip.ts';
import { labels } from './labels.ts';
import { uint } from './uint.ts';

export const nodeBody = (): fc.Arbitrary<NodeBody> => plain({
  addresses: fc.array(plain({ type: uint(8), ip: ip() }), { maxLength: 3 }),
  podCIDRs: fc.array(cidr(), { maxLength: 2 }),
  labels: labels(),
});
