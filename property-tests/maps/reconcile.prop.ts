// reconcile(live, desired): applied to live it gives desired, with no op
// that leaves an entry as it was; an identical image gives no ops at all.
// reconcileImage (pinned maps read in packed pieces, in the kernel's order)
// gives the same diff; keyOrder sorts packed keys as Buffer.compare does.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAPS } from '../../runtime/abi/layouts.generated.ts';
import { encodeDiff, opCount, type MapDiff } from '../../runtime/maps/mapDiff.ts';
import { imageStore } from '../../runtime/maps/imageStore.ts';
import { keyOrder } from '../../runtime/maps/keyOrder.ts';
import { reconcile, reconcileImage } from '../../runtime/maps/reconcile.ts';
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

/** A store's entries in an order drawn from seed (a bpf hash map gives its own), in packed pieces of up to 7, each piece's buffers reused. */
function chunksShuffled(store: MemoryStore, seed: number) {
  return {
    chunks(name: (typeof MAPS)[number]['name'], each: (keys: Uint8Array, values: Uint8Array, n: number) => void): void {
      const entries = store.entries(name);
      let x = seed >>> 0;
      for (let i = entries.length - 1; i > 0; i--) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        const j = x % (i + 1);
        [entries[i], entries[j]] = [entries[j], entries[i]];
      }
      const layout = MAPS.find((m) => m.name === name)!;
      const keys = new Uint8Array(7 * layout.key.size), values = new Uint8Array(7 * layout.value.size);
      for (let at = 0; at < entries.length; at += 7) {
        const piece = entries.slice(at, at + 7);
        keys.fill(0xee);
        values.fill(0xee);
        piece.forEach(([k, v], i) => {
          keys.set(k, i * k.length);
          values.set(v, i * v.length);
        });
        each(keys, values, piece.length);
      }
    },
  };
}

test('reconcileImage, from packed pieces of entries in any order, gives the diff reconcile gives', () => {
  check(fc.property(mapContents(), mapContents(), fc.integer(), (a, b, seed) => {
    const live = storeOf(a);
    assert.equal(reconcileImage(chunksShuffled(live, seed), b).bytes, reconcile(live, imageStore(b)).bytes);
    assert.equal(opCount(reconcileImage(chunksShuffled(storeOf(b), seed), b)), 0, 'the image itself: no ops');
  }), { numRuns: 300 });
});

test('reconcileImage sees a value that differs from live in any one byte, and upserts that entry alone', () => {
  const picked = mapContents().filter((d) => d.sections.length > 0)
    .chain((d) => fc.tuple(fc.constant(d), fc.nat({ max: d.sections.length - 1 }), fc.nat(), fc.oneof(fc.constant(-1), fc.nat()), fc.integer()));
  const coverage = new Coverage('one byte', { 'a value of 64 bytes or fewer': 0.3, 'a longer value': 0.15, 'its last byte': 0.2 });
  check(fc.property(picked, ([a, si, e, byte, seed]) => {
    const s = a.sections[si], vs = s.map.value.size, n = s.upsertValues.length / vs;
    const values = s.upsertValues.slice(), at = byte < 0 ? vs - 1 : byte % vs; // the last byte often: where a short compare ends
    values[(e % n) * vs + at] ^= 0x80;
    coverage.run([vs <= 64 ? 'a value of 64 bytes or fewer' : 'a longer value', ...(at === vs - 1 ? ['its last byte' as const] : [])]);
    const b = encodeDiff(a.sections.map((x, i) => (i === si ? { ...x, upsertValues: values } : x)));
    const d = reconcileImage(chunksShuffled(storeOf(a), seed), b);
    assert.is(opCount(d), 1, `${s.map.name}: byte ${at} of ${vs}`);
    assert.equal(d.bytes, reconcile(storeOf(a), imageStore(b)).bytes);
  }), { numRuns: 300 });
  coverage.check();
});

test('keyOrder orders packed keys as Buffer.compare does', () => {
  check(fc.property(fc.integer({ min: 1, max: 12 }).chain((ks) => fc.tuple(fc.constant(ks), fc.array(fc.array(fc.constantFrom(0, 1, 127, 128, 255), { minLength: ks, maxLength: ks }).map((b) => Uint8Array.from(b)), { maxLength: 300 }))), ([ks, keys]) => {
    const packed = new Uint8Array(Buffer.concat(keys));
    const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');
    const order = keyOrder(packed, ks, keys.length);
    assert.equal([...order].map((i) => hex(keys[i])), [...keys].sort(Buffer.compare).map(hex));
  }), { numRuns: 300 });
});

test.run();
