// normalize() never throws on input, and takes an object whole or not at all.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalize } from '../../runtime/encode/records.ts';
import { decodeRecords, encodeRecords } from '../../runtime/encode/schema.ts';
import { loadSnapshot } from '../../runtime/sources/snapshot.ts';
import { kubeObject } from '../arb/kubeObject.ts';
import { mutant } from '../arb/mutant.ts';
import { check } from '../seed.ts';

function wholeOrNothing(obj: unknown): void {
  const n = normalize(obj);
  assert.ok(n.rejected.length <= 1, 'at most one rejection');
  if (n.rejected.length === 1) assert.equal([n.record, n.notes], [undefined, []], 'a rejected object yields nothing else');
  if (n.record) assert.equal(decodeRecords(encodeRecords([n.record])), [n.record], 'an accepted record encodes');
}

test('any value at all', () => {
  check(fc.property(fc.anything(), wholeOrNothing));
});

test('Kubernetes-shaped objects with random fields', () => {
  check(fc.property(kubeObject(), wholeOrNothing), { numRuns: 2000 });
});

test('valid objects with one field changed', () => {
  const { objects } = loadSnapshot([new URL('../../examples/cluster.yaml', import.meta.url).pathname]);
  check(fc.property(mutant(objects as object[]), wholeOrNothing), { numRuns: 5000 });
});

test.run();
