import fc from 'fast-check';
import type { Cidr } from '../../runtime/encode/ip.ts';
import { ip } from './ip.ts';

/** A CIDR whose prefix fits its family; host bits are whatever ip() gave. */
export const cidr = (): fc.Arbitrary<Cidr> =>
  ip().chain((a) => fc.integer({ min: 0, max: a.bytes.length * 8 }).map((prefix) => ({ ip: a, prefix })));
