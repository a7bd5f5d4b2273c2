// backoffDelay: exponential, capped, jittered within bounds.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backoffDelay, RESTART_BACKOFF } from '../../runtime/sources/backoff.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';

test('without jitter: 100 ms doubling, capped at 30 s', () => {
  const delays = Array.from({ length: 12 }, (_, n) => backoffDelay(n, RESTART_BACKOFF, () => 0.5));
  assert.equal(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000]);
});

test('the jitter reaches +-20 % at its extremes', () => {
  assert.equal([backoffDelay(0, RESTART_BACKOFF, () => 0), backoffDelay(20, RESTART_BACKOFF, () => 0.999999)], [80, 36000]);
});

test('property: every delay lies within +-jitter of min(max, initial * factor^n)', () => {
  const policy = fc.record({
    initialMs: fc.integer({ min: 1, max: 1000 }), maxMs: fc.integer({ min: 1, max: 60_000 }),
    factor: fc.double({ min: 1, max: 4, noNaN: true }), jitter: fc.double({ min: 0, max: 0.9, noNaN: true }),
  });
  const coverage = new Coverage('delays', { 'under the cap': 0.1, 'at the cap': 0.3 });
  check(fc.property(policy, fc.nat(100), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (p, n, r) => {
    const base = Math.min(p.maxMs, p.initialMs * p.factor ** n);
    coverage.run([base === p.maxMs ? 'at the cap' : 'under the cap']);
    const d = backoffDelay(n, p, () => r);
    assert.ok(Number.isFinite(d) && d >= Math.floor(base * (1 - p.jitter)) && d <= Math.ceil(base * (1 + p.jitter)), `${d} vs ${base}`);
  }));
  coverage.check();
});

test.run();
