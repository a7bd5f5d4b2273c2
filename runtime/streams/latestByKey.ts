// A batch is a set of states, not a list of edits: of several changes to one
// object only the last survives, and the batch comes out in key order, so
// what the compiler sees does not depend on arrival order (STYLE #13).
import { map, type OperatorFunction } from '../rx/rx.ts';

export const latestByKey = <T>(keyOf: (t: T) => string): OperatorFunction<T[], T[]> =>
  map((batch) => {
    const latest = new Map(batch.map((t) => [keyOf(t), t] as const)); // last write wins
    return [...latest.keys()].sort().map((k) => latest.get(k)!); // key order, not arrival
  });
