import fc from 'fast-check';
import { plain } from './plain.ts';
import * as R from '../../compiler/abi/records.ts';
import type { Kind, Record } from '../../runtime/encode/schema.ts';
import { namespaceBody } from './namespaceBody.ts';
import { nodeBody } from './nodeBody.ts';
import { podBody } from './podBody.ts';
import { policyBody } from './policyBody.ts';
import { serviceBody } from './serviceBody.ts';
import { sliceBody } from './sliceBody.ts';
import { text } from './text.ts';

const upsert = <K extends Kind>(kind: K, body: fc.Arbitrary<unknown>) =>
  plain({ namespace: text(), name: text(), body }).map((r) => ({ kind, op: 'upsert', ...r }) as Record);

/** Any normalized record: an upsert of each kind, or a delete. */
export const record = (): fc.Arbitrary<Record> => fc.oneof(
  upsert(R.KIND_SERVICE, serviceBody()),
  upsert(R.KIND_ENDPOINT_SLICE, sliceBody()),
  upsert(R.KIND_NODE, nodeBody()),
  upsert(R.KIND_POD, podBody()),
  upsert(R.KIND_NAMESPACE, namespaceBody()),
  upsert(R.KIND_NETWORK_POLICY, policyBody()),
  plain({
    kind: fc.constantFrom<Kind>(R.KIND_SERVICE, R.KIND_ENDPOINT_SLICE, R.KIND_NODE, R.KIND_POD, R.KIND_NAMESPACE, R.KIND_NETWORK_POLICY),
    namespace: text(), name: text(),
  }).map((r) => ({ ...r, op: 'delete' }) as Record),
);
