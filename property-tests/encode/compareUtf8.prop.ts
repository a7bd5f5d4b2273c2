// compareUtf8 agrees with comparing the UTF-8 bytes, without making them.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareUtf8 } from '../../runtime/encode/compareUtf8.ts';
import { check } from '../seed.ts';

test('compareUtf8 orders strings as their UTF-8 bytes', () => {
  const sign = (n: number) => Math.sign(n);
  const str = fc.string({ unit: fc.constantFrom('a', 'z', '\u00e9', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{1f600}'), maxLength: 4 });
  check(fc.property(str, str, (a, b) => {
    assert.is(sign(compareUtf8(a, b)), sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
  }));
});

test.run();
