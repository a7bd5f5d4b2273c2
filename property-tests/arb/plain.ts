import fc from 'fast-check';

/** fc.record, minus null-prototype objects: decoded records are plain objects, and assert.equal compares prototypes. */
export function plain<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }, requiredKeys?: (keyof T)[]): fc.Arbitrary<T> {
  return (requiredKeys
    ? fc.record(model, { noNullPrototype: true, requiredKeys })
    : fc.record(model, { noNullPrototype: true })) as fc.Arbitrary<T>;
}
