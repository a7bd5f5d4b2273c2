// How a bad value and an object read in a message (fields.ts, shown;
// objectKey.ts, labelOf), by hand from Kubernetes' kind names and JSON: the
// parts of a rejection that no normalizer test pinned down, found by the
// sampled mutation run (shown called an object by its JSON, and kinds by
// other names, unnoticed).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as R from '../../compiler/abi/records.ts';
import { shown } from '../../runtime/encode/fields.ts';
import { labelOf } from '../../runtime/encode/objectKey.ts';

test('shown: containers by kind, null and scalars as JSON, a long string cut to 64 characters with its length', () => {
  assert.is(shown({ a: 1 }), 'an object');
  assert.is(shown([1]), 'a list');
  assert.is(shown(null), 'null');
  assert.is(shown(80), '80');
  assert.is(shown(true), 'true');
  assert.is(shown('web'), '"web"');
  assert.is(shown(undefined), 'undefined');
  assert.is(shown('x'.repeat(64)), `"${'x'.repeat(64)}"`);
  assert.is(shown('x'.repeat(65)), `"${'x'.repeat(64)}"... (65 characters)`);
});

test('labelOf: the Kubernetes kind, then namespace/name, or the name alone for a cluster-scoped kind', () => {
  const label = (kind: number, namespace: string, name: string) => labelOf({ kind, namespace, name } as Parameters<typeof labelOf>[0]);
  assert.equal([
    label(R.KIND_SERVICE, 'shop', 'web'), label(R.KIND_ENDPOINT_SLICE, 'shop', 'web-1'), label(R.KIND_NODE, '', 'node-a'),
    label(R.KIND_POD, 'shop', 'web-1'), label(R.KIND_NAMESPACE, '', 'shop'), label(R.KIND_NETWORK_POLICY, 'shop', 'deny'),
  ], ['Service shop/web', 'EndpointSlice shop/web-1', 'Node node-a', 'Pod shop/web-1', 'Namespace shop', 'NetworkPolicy shop/deny']);
});

test.run();
