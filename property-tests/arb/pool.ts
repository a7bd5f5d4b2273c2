import fc from 'fast-check';
import { parseCidr, parseIp, type Cidr, type Ip } from '../../runtime/encode/ip.ts';

/** A value from a small pool, so random objects collide, overlap and conflict. */
export const pick = <T>(...xs: T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);

/** A value from a small pool, each with its weight. */
export const weighted = <T>(...xs: [weight: number, value: T][]): fc.Arbitrary<T> =>
  fc.oneof(...xs.map(([weight, x]) => ({ weight, arbitrary: fc.constant(x) })));

export const poolIp = (...texts: string[]): fc.Arbitrary<Ip> => pick(...texts.map((t) => parseIp(t)!));

export const poolIps = (max: number, ...texts: string[]): fc.Arbitrary<Ip[]> =>
  fc.uniqueArray(pick(...texts), { maxLength: max }).map((ts) => ts.map((t) => parseIp(t)!));

export const poolCidrs = (max: number, ...texts: string[]): fc.Arbitrary<Cidr[]> =>
  fc.uniqueArray(pick(...texts), { maxLength: max }).map((ts) => ts.map((t) => parseCidr(t)!));
