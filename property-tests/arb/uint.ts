import fc from 'fast-check';

/** An unsigned integer of one of the record ABI's widths. */
export const uint = (bits: 8 | 16 | 32) => fc.nat({ max: 2 ** bits - 1 });
