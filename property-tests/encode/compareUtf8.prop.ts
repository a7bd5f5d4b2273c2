// compareUtf8 agrees with comparing the UTF-8 bytes, without making them.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareUtf8 } from '../../runtime/encode/compareUtf8.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';

test('compareUtf8 orders strings as their UTF-8 bytes', () => {
  const sign = (n: number) => Math.sign(n);
  const str = fc.string({ unit: fc.constantFrom('a', 'z', '\u00e9', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1f600}'), maxLength: 4 });
  // UTF-16 order and UTF-8 order part where a surrogate pair meets a code unit from U+E000 up.
  const coverage = new Coverage('string pairs', { 'UTF-16 order differs': 0.04, before: 0.2, after: 0.2, equal: 0.002 });
  check(fc.property(str, str, (a, b) => {
    const bytes = sign(Buffer.compare(Buffer.from(a), Buffer.from(b)));
    coverage.run([bytes < 0 ? 'before' : bytes > 0 ? 'after' : 'equal', ...(sign(a < b ? -1 : a > b ? 1 : 0) !== bytes ? ['UTF-16 order differs' as const] : [])]);
    assert.is(sign(compareUtf8(a, b)), bytes);
  }), { numRuns: 1000 });
  coverage.check();
});

test.run();
