import fc from 'fast-check';
import type { Labels } from '../../runtime/encode/schema.ts';
import { text } from './text.ts';

export const labels = (): fc.Arbitrary<Labels> => fc.array(fc.tuple(text(), text()), { maxLength: 4 });
