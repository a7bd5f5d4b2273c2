import fc from 'fast-check';
import { plain } from './plain.ts';
import type { PodBody } from '../../runtime/encode/schema.ts';
import { ip } from './ip.ts';
import { labels } from './labels.ts';
import { text } from './text.ts';
import { uint } from './uint.ts';

export const podBody = (): fc.Arbitrary<PodBody> => plain({
  nodeName: text(),
  flags: uint(8),
  podIPs: fc.array(ip(), { maxLength: 2 }),
  labels: labels(),
  ports: fc.array(plain({ name: text(), proto: uint(8), port: uint(16) }), { maxLength: 3 }),
});
