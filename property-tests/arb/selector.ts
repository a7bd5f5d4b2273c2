import fc from 'fast-check';
import { plain } from './plain.ts';
import type { Selector } from '../../runtime/encode/schema.ts';
import { labels } from './labels.ts';
import { text } from './text.ts';
import { uint } from './uint.ts';

export const selector = (): fc.Arbitrary<Selector> => plain({
  matchLabels: labels(),
  matchExpressions: fc.array(plain({ key: text(), op: uint(8), values: fc.array(text(), { maxLength: 3 }) }), { maxLength: 3 }),
});
