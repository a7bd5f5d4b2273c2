// reconcile(live, desired): applied to live it gives desired, with no op
// that leaves an entry as it was; an identical image gives no ops at all.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { opCount, type MapDiff } from '../../runtime/maps/mapDiff.ts';
import { reconcile } from '../../runtime/maps/reconcile.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import { mapContents } from '../arb/mapContents.ts';
import { checkMinimal, dump } from '../model/maps.ts';
import { check } from '../seed.ts';

const storeOf = (d: MapDiff) => {
  const s = new MemoryStore();
  s.apply(d);
  return s;
};

test('reconcile turns live into desired with minimal ops', () => {
  check(fc.property(mapContents(), mapContents(), (a, b) => {
    const live = storeOf(a), desired = storeOf(b);
    const diff = reconcile(live, desired);
    checkMinimal(diff, live);
    live.apply(diff);
    assert.equal(dump(live), dump(desired));
  }), { numRuns: 300 });
});

test('reconciling an image with itself gives an empty diff', () => {
  check(fc.property(mapContents(), (a) => {
    const d = reconcile(storeOf(a), storeOf(a));
    assert.equal([opCount(d), d.sections.length, d.bytes.length], [0, 0, 8]);
  }));
});

test.run();
