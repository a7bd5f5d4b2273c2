import fc from 'fast-check';
import * as R from '../../compiler/abi/records.ts';
import type { Kind, Record } from '../../runtime/encode/schema.ts';
import { pick } from './pool.ts';
import { smallNode } from './smallNode.ts';
import { smallService } from './smallService.ts';
import { smallSlice } from './smallSlice.ts';

const ns = pick('a', 'b');

/** One change in the small universe: an object's new state, or its deletion.
 * Namespaces and Pods are in it too: the service compiler must ignore them. */
export const clusterEvent = (): fc.Arbitrary<Record> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ namespace: ns, name: pick('s1', 's2', 's3'), body: smallService() })
    .map((r): Record => ({ kind: R.KIND_SERVICE, op: 'upsert', ...r })) },
  { weight: 5, arbitrary: fc.record({ namespace: ns, name: pick('e1', 'e2', 'e3'), body: smallSlice() })
    .map((r): Record => ({ kind: R.KIND_ENDPOINT_SLICE, op: 'upsert', ...r })) },
  { weight: 1, arbitrary: fc.record({ name: pick('n1', 'n2'), body: smallNode() })
    .map((r): Record => ({ kind: R.KIND_NODE, op: 'upsert', namespace: '', ...r })) },
  { weight: 1, arbitrary: fc.record({ name: pick('a', 'b') })
    .map((r): Record => ({ kind: R.KIND_NAMESPACE, op: 'upsert', namespace: '', ...r, body: { labels: [['team', 'x']] } })) },
  { weight: 3, arbitrary: fc.record({
    kind: pick<Kind>(R.KIND_SERVICE, R.KIND_ENDPOINT_SLICE, R.KIND_NODE),
    namespace: ns, name: pick('s1', 's2', 's3', 'e1', 'e2', 'e3', 'n1', 'n2'),
  }).map((r): Record => ({ ...r, namespace: r.kind === R.KIND_NODE ? '' : r.namespace, op: 'delete' })) },
);

/** A history: batches of events, as the runtime hands them to the compiler. */
export const history = (): fc.Arbitrary<Record[][]> =>
  fc.array(fc.array(clusterEvent(), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 6 });
