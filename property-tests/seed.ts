// One seed for every property, fixed so CI is reproducible; SEED=n to explore.
import fc from 'fast-check';

export const SEED = Number(process.env.SEED ?? 42);

/** fc.assert with the seed, and a failure message that says how to replay it. */
export function check(property: fc.IRawProperty<unknown[]>, params: fc.Parameters<unknown[]> = {}): void {
  try {
    fc.assert(property, { seed: SEED, ...params });
  } catch (e) {
    throw new Error(`property failed with SEED=${SEED} (rerun with SEED=${SEED})\n${(e as Error).message}`, { cause: e });
  }
}
