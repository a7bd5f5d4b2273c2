// normalize() never throws on input, and takes an object whole or not at all.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalize } from '../../runtime/encode/records.ts';
import { decodeRecords, encodeRecords } from '../../runtime/encode/schema.ts';
import { loadSnapshot } from '../../runtime/sources/snapshot.ts';
import { kubeObject } from '../arb/kubeObject.ts';
import { mutant } from '../arb/mutant.ts';
import { kubeCluster } from '../arb/kubeCluster.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';

type Outcome = 'accepted' | 'accepted with a note' | 'rejected' | 'ignored';

/** Checks one input; returns what became of it, for the coverage counts. */
function wholeOrNothing(obj: unknown): Outcome[] {
  const n = normalize(obj);
  assert.ok(n.rejected.length <= 1, 'at most one rejection');
  if (n.rejected.length === 1) assert.equal([n.record, n.notes], [undefined, []], 'a rejected object yields nothing else');
  if (n.record) assert.equal(decodeRecords(encodeRecords([n.record])), [n.record], 'an accepted record encodes');
  if (n.rejected.length === 1) return ['rejected'];
  if (!n.record) return ['ignored'];
  return n.notes.length > 0 ? ['accepted', 'accepted with a note'] : ['accepted'];
}

function covered(title: string, shares: { [O in Outcome]: number }, arb: fc.Arbitrary<unknown>, numRuns: number): void {
  const coverage = new Coverage(title, shares);
  check(fc.property(arb, (o) => coverage.run(wholeOrNothing(o))), { numRuns });
  coverage.check();
}

test('any value at all', () => {
  covered('any value', { accepted: 0, 'accepted with a note': 0, rejected: 0.9, ignored: 0 }, fc.anything(), 100);
});

test('Kubernetes-shaped objects with random fields, and valid ones', () => {
  // Random fields alone are nearly always rejected: half the inputs are valid objects, so the accept path runs too.
  const valid = kubeCluster().chain(({ objects }) => fc.constantFrom(...objects));
  covered('random and valid objects', { accepted: 0.2, 'accepted with a note': 0.02, rejected: 0.2, ignored: 0.01 },
    fc.oneof(kubeObject(), valid), 2000);
});

test('valid objects with one field changed', () => {
  const { objects } = loadSnapshot([new URL('../../examples/cluster.yaml', import.meta.url).pathname]);
  covered('one field changed', { accepted: 0.2, 'accepted with a note': 0, rejected: 0.2, ignored: 0 }, mutant(objects as object[]), 5000);
});

test.run();
