// commonPrefix (runtime/encode/ipv4.ts; the testbed's underlay prefix):
// examples by hand, and a property against a model that compares the
// addresses' bits as text. Two of its mutants survived the sampled mutation
// run: nothing tested it but the testbed's own wiring.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commonPrefix, parseU32 } from '../../runtime/encode/ipv4.ts';
import { check } from '../seed.ts';

const bits = (a: number) => a.toString(2).padStart(32, '0');

/** The model: the number of leading bits every address shares with the first, at most max. */
function sharedBits(addrs: readonly number[], max: number): number {
  let p = 0;
  while (p < max && addrs.every((a) => bits(a)[p] === bits(addrs[0])[p])) p++;
  return p;
}

test('examples', () => {
  const at = (...xs: string[]) => xs.map(parseU32);
  assert.is(commonPrefix(at('10.0.0.1', '10.0.0.2'), 32), 30);
  assert.is(commonPrefix(at('10.0.0.1'), 32), 32);
  assert.is(commonPrefix(at('10.0.0.1'), 24), 24, 'never past max');
  assert.is(commonPrefix(at('10.0.0.0', '10.0.1.0'), 32), 23);
  assert.is(commonPrefix(at('0.0.0.0', '128.0.0.0'), 32), 0);
});

test('the longest prefix, at most max, that every address shares', () => {
  let split = 0;
  check(fc.property(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 0, max: 32 }), fc.nat({ max: 31 }),
    (raw, max, keep) => {
      // most arrays share a long prefix: addresses near the first, as an underlay's are
      const addrs = raw.map((a) => (keep === 0 ? a : ((raw[0] >>> (32 - keep)) << (32 - keep) | (a & ((2 ** (32 - keep)) - 1))) >>> 0));
      const want = sharedBits(addrs, max);
      if (want > 0 && want < max) split++;
      assert.is(commonPrefix(addrs, max), want);
    }), { numRuns: 500 });
  assert.ok(split > 100, `only ${split} of 500 runs had a prefix strictly between 0 and max`);
});

test.run();
