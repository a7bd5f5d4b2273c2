// P3 and P4 of POLICY.md §3 (invariants 1-3 of DESIGN.md for policy):
// histories of pod, namespace and policy changes (relabels, moves between
// nodes, new label keys entering selectors, edits, deletions); each diff
// applied to the maps equals a rebuild and is minimal, the end equals a fresh
// compile, and two histories to one state give the same bytes. Ids of 1 and
// 2 hash bits force collisions, so renumbering runs too.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normalize } from '../../runtime/encode/records.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { NAMESPACES, NODES, namespaceObject, podObject, policyObject } from '../arb/policyCluster.ts';
import { checkMinimal, compileOnce, dump } from '../model/maps.ts';
import { finalState } from '../model/state.ts';
import { check } from '../seed.ts';

const upsert = (o: unknown): Record => {
  const n = normalize(o);
  if (!n.record) throw new Error(`not normalized: ${JSON.stringify(n.rejected)}`);
  return n.record;
};

const event = (): fc.Arbitrary<Record> => fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 5 }).chain(podObject).map(upsert) },
  { weight: 2, arbitrary: fc.constantFrom(...NAMESPACES).chain(namespaceObject).map(upsert) },
  { weight: 4, arbitrary: fc.constantFrom('np0', 'np1', 'np2').chain(policyObject).map(upsert) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 5 }).chain(podObject).map((r): Record => { const u = upsert(r); return { kind: u.kind, namespace: u.namespace, name: u.name, op: 'delete' }; }) },
  { weight: 2, arbitrary: fc.constantFrom('np0', 'np1', 'np2').chain(policyObject).map((r): Record => { const u = upsert(r); return { kind: u.kind, namespace: u.namespace, name: u.name, op: 'delete' }; }) },
  { weight: 1, arbitrary: fc.constantFrom(...NAMESPACES).map((name): Record => ({ kind: 5, namespace: '', name, op: 'delete' })) },
);

const nodes = NODES.map(upsert);
const history = () => fc.array(fc.array(event(), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 })
  .map((h) => [nodes, ...h]);

for (const idBits of [27, 2, 1]) {
  test(`policy: each diff applied to the last maps equals a rebuild, minimal; the end equals a fresh compile (id hash bits: ${idBits})`, () => {
    let policyOps = 0;
    check(fc.property(history(), (batches) => {
      const c = new Compiler({ node: 'n1', idBits });
      const store = new MemoryStore();
      for (const b of batches) {
        const d = c.batch(encodeRecords(b));
        checkMinimal(d, store);
        store.apply(d);
        policyOps += d.sections.filter((s) => s.map.name.startsWith('sl_pol') || s.map.name === 'sl_ipid').length;
        const rebuilt = new MemoryStore();
        rebuilt.apply(c.rebuild());
        assert.equal(dump(store), dump(rebuilt));
      }
      assert.equal(dump(store), compileOnce(finalState(batches), { node: 'n1', idBits }));
    }), { numRuns: 200 });
    assert.ok(policyOps > 200, `histories touched the policy maps only ${policyOps} times`);
  });
}

function replay(batches: Record[][], idBits: number): string[] {
  const c = new Compiler({ node: 'n1', idBits });
  const store = new MemoryStore();
  for (const b of batches) store.apply(c.batch(encodeRecords(b)));
  return dump(store);
}

for (const idBits of [27, 2]) {
  test(`policy: histories that end in the same state give the same maps (id hash bits: ${idBits})`, () => {
    check(fc.property(history(), history(), (h1, h2) => {
      const target = finalState(h1);
      const refOf = (r: Record) => `${r.kind}/${r.namespace}/${r.name}`;
      const keep = new Set(target.map(refOf));
      const stale = finalState(h2).filter((r) => !keep.has(refOf(r))).map((r): Record => ({ kind: r.kind, namespace: r.namespace, name: r.name, op: 'delete' }));
      assert.equal(replay([...h2, stale, target], idBits), replay(h1, idBits));
    }), { numRuns: 150 });
  });
}

test.run();
