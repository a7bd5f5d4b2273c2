// reconcile(live, desired): applied to live it gives desired, with no op
// that leaves an entry as it was; an identical image gives no ops at all.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAPS } from '../../runtime/abi/layouts.generated.ts';
import { opCount, type MapDiff } from '../../runtime/maps/mapDiff.ts';
import { imageStore } from '../../runtime/maps/imageStore.ts';
import { reconcile } from '../../runtime/maps/reconcile.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { mapContents } from '../arb/mapContents.ts';
import { checkMinimal, dump } from '../model/maps.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';

const storeOf = (d: MapDiff) => {
  const s = new MemoryStore();
  s.apply(d);
  return s;
};

type Op = 'adds an entry' | 'deletes an entry' | 'changes a value' | 'keeps an equal entry';

/** What reconciling live to desired must do, from the two images alone. */
function ops(live: MemoryStore, desired: MemoryStore): Op[] {
  const out: Op[] = [];
  for (const { name } of MAPS) {
    const was = new Map(live.entries(name).map(([k, v]) => [Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]));
    const now = new Map(desired.entries(name).map(([k, v]) => [Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]));
    for (const [k, v] of now) out.push(!was.has(k) ? 'adds an entry' : was.get(k) === v ? 'keeps an equal entry' : 'changes a value');
    for (const k of was.keys()) if (!now.has(k)) out.push('deletes an entry');
  }
  return out;
}

test('reconcile turns live into desired with minimal ops', () => {
  const coverage = new Coverage('reconcile', { 'adds an entry': 0.5, 'deletes an entry': 0.5, 'changes a value': 0.5, 'keeps an equal entry': 0.5 });
  check(fc.property(mapContents(), mapContents(), (a, b) => {
    const live = storeOf(a), desired = storeOf(b);
    coverage.run(ops(live, desired));
    const diff = reconcile(live, desired);
    checkMinimal(diff, live);
    live.apply(diff);
    assert.equal(dump(live), dump(desired));
  }), { numRuns: 300 });
  coverage.check();
});

test('an image read through imageStore holds what a MemoryStore given the same diff holds', () => {
  check(fc.property(mapContents(), mapContents(), (a, b) => {
    const image = imageStore(b), stored = storeOf(b);
    for (const { name } of MAPS) {
      assert.equal(image.entries(name), stored.entries(name), name);
      for (const [k] of [...storeOf(a).entries(name), ...stored.entries(name)]) assert.equal(image.lookup(name, k), stored.lookup(name, k));
    }
    assert.equal(reconcile(storeOf(a), image).bytes, reconcile(storeOf(a), stored).bytes, 'the same diff from either');
  }));
});

test('imageStore refuses what an image is not: a diff that deletes, a write', () => {
  const live = storeOf(fc.sample(mapContents().filter((d) => d.sections.length > 0), { numRuns: 1, seed: 1 })[0]);
  const deletes = reconcile(live, new MemoryStore());
  const map = deletes.sections[0].map.name;
  assert.throws(() => imageStore(deletes).entries(map), new RegExp(`the diff deletes from ${map}`));
  assert.throws(() => imageStore(deletes).apply(deletes), /read-only/);
});

test('reconciling an image with itself gives an empty diff', () => {
  check(fc.property(mapContents(), (a) => {
    const d = reconcile(storeOf(a), storeOf(a));
    assert.equal([opCount(d), d.sections.length, d.bytes.length], [0, 0, 8]);
  }));
});

test.run();
