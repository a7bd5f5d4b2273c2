import fc from 'fast-check';
import { plain } from './plain.ts';
import type { SliceBody } from '../../runtime/encode/schema.ts';
import { ip } from './ip.ts';
import { text } from './text.ts';
import { uint } from './uint.ts';

export const sliceBody = (): fc.Arbitrary<SliceBody> => plain({
  serviceName: text(),
  addressType: uint(8),
  ports: fc.array(plain({ name: text(), proto: uint(8), port: uint(16) }), { maxLength: 3 }),
  endpoints: fc.array(plain({ address: ip(), conditions: uint(8), nodeName: text(), zone: text(), forZones: fc.array(text(), { maxLength: 2 }) }), { maxLength: 5 }),
});
