import fc from 'fast-check';
import { plain } from './plain.ts';
import type { NamespaceBody } from '../../runtime/encode/schema.ts';
import { labels } from './labels.ts';

export const namespaceBody = (): fc.Arbitrary<NamespaceBody> => plain({ labels: labels() });
