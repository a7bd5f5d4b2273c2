// One seed for every property, fixed so CI is reproducible; SEED=n to explore.
import fc from 'fast-check';

export const SEED = Number(process.env.SEED ?? 42);

/** fc.assert with the seed, and a failure message that says how to replay it; an async property returns its promise. */
export function check<Ts extends unknown[]>(property: fc.IAsyncProperty<Ts>, params?: fc.Parameters<Ts>): Promise<void>;
export function check(property: fc.IRawProperty<unknown[]>, params?: fc.Parameters<unknown[]>): void;
export function check(property: fc.IRawProperty<unknown[]>, params: fc.Parameters<unknown[]> = {}): void | Promise<void> {
  const failed = (e: unknown) => {
    throw new Error(`property failed with SEED=${SEED} (rerun with SEED=${SEED})\n${(e as Error).message}`, { cause: e });
  };
  try {
    const done = fc.assert(property, { seed: SEED, ...params }) as void | Promise<void>;
    if (done instanceof Promise) return done.catch(failed);
  } catch (e) {
    failed(e);
  }
}
