// Invariant 2 of DESIGN.md: incremental equals rebuild, and every diff is
// minimal and in total order. Run with ids of few hash bits too, so that
// collisions (and full id buckets) happen.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { history } from '../arb/clusterEvent.ts';
import { checkMinimal, compileOnce, dump } from '../model/maps.ts';
import { finalState } from '../model/state.ts';
import { check } from '../seed.ts';

for (const idBits of [27, 2, 1]) {
  test(`each diff applied to the last maps equals a rebuild; problems change only with their version (id hash bits: ${idBits})`, () => {
    let problemChanges = 0;
    check(fc.property(history(), (batches) => {
      const c = new Compiler({ node: 'n1', idBits });
      const store = new MemoryStore();
      let version = c.problemsVersion(), problems = '[]';
      for (const b of batches) {
        const d = c.batch(encodeRecords(b));
        checkMinimal(d, store);
        store.apply(d);
        const rebuilt = new MemoryStore();
        rebuilt.apply(c.rebuild());
        assert.equal(dump(store), dump(rebuilt));
        const now = JSON.stringify(c.problems());
        if (c.problemsVersion() === version) assert.is(now, problems, 'problems changed, their version did not');
        if (now !== problems) problemChanges++;
        version = c.problemsVersion();
        problems = now;
      }
      assert.equal(dump(store), compileOnce(finalState(batches), { node: 'n1', idBits }));
    }), { numRuns: 250 });
    assert.ok(problemChanges > 0, 'the histories never changed the problems: the version check went untried');
  });
}

test.run();
