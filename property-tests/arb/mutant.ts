import fc from 'fast-check';
import { leaf } from './kubeObject.ts';

/**
 * One of the given valid objects with one field, somewhere down a random
 * path, replaced by a random value (or deleted): bad input that is mostly
 * good, so it reaches every corner of the normalizer.
 */
export const mutant = (valid: readonly object[]) =>
  fc.tuple(fc.nat({ max: valid.length - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), fc.option(leaf(), { nil: undefined }))
    .map(([which, steps, value]) => {
      const obj = structuredClone(valid[which]) as { [key: string]: unknown };
      let at: { [key: string]: unknown } = obj;
      for (const [i, step] of steps.entries()) {
        const keys = Object.keys(at);
        if (keys.length === 0) break;
        const key = keys[step % keys.length];
        const next = at[key];
        if (i === steps.length - 1 || next === null || typeof next !== 'object') {
          if (value === undefined) delete at[key];
          else at[key] = value;
          break;
        }
        at = next as { [key: string]: unknown };
      }
      return obj;
    });
