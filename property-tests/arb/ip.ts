import fc from 'fast-check';
import type { Ip } from '../../runtime/encode/ip.ts';

/** An address of either family, as raw bytes. */
export const ip = (): fc.Arbitrary<Ip> => fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => ({ family: 4 as const, bytes })),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => ({ family: 6 as const, bytes })),
);
