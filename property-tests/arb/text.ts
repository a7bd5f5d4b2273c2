import fc from 'fast-check';

/** Short strings over all of Unicode (no lone surrogates: the ABI carries UTF-8). */
export const text = () => fc.string({ unit: 'binary', maxLength: 12 });
