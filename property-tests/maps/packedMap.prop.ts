// PackedMap (the in-memory store's map) against the plainest model of a map:
// after any run of sets and deletes it holds exactly the last value set for
// each key not deleted since, however each value was packed (by its distinct
// 32-bit words, in the value or in a palette that values share, or as it is).
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PackedMap } from '../../runtime/maps/packedMap.ts';
import { Coverage } from '../coverage.ts';
import { check } from '../seed.ts';

type Op = { del: false; key: number; words: number[]; tail: number[] } | { del: true; key: number };
type Class = '1-2 distinct words' | '3-4 distinct words' | '5-8 distinct words' | '9-16 distinct words' | 'over 16 distinct words' | 'value not whole words' |
  'a short value (under 8 words, kept as it is)' | 'a value replaced' | 'a missing key deleted' | 'a key deleted' | 'over 64 entries at once' | 'long values (palettes)' | 'the words of the long value before';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// Words that repeat within a value, or not, so that values of every number of distinct words come.
const word = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xffffffff }));
// The third: one Service's backends in another order each time, as a Maglev table's chunks name them.
const words = fc.oneof(
  fc.array(word, { minLength: 1, maxLength: 8 }),
  fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 24, size: 'max' }),
  fc.shuffledSubarray([11, 22, 33, 44, 55], { minLength: 5 }),
);
const valueSize = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 24 }).map((w) => 4 * w) },
  { weight: 2, arbitrary: fc.integer({ min: 32, max: 64 }).map((w) => 4 * w) }, // a Maglev chunk's 64, and the palettes' least
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }) },
);
const shape = fc.record({ keySize: fc.integer({ min: 1, max: 12 }), valueSize, keys: fc.integer({ min: 4, max: 300 }) });

/** A key of the given size for key number n: a few bytes that differ, so that keys share hash buckets often. */
function keyOf(n: number, size: number): Uint8Array {
  const k = new Uint8Array(size);
  for (let i = 0; i < size && i < 4; i++) k[size - 1 - i] = (n >> (8 * i)) & 255;
  return k;
}

function valueOf(words: number[], tail: number[], size: number): Uint8Array {
  const v = new Uint8Array(size), d = new DataView(v.buffer);
  for (let i = 0; 4 * i + 4 <= size; i++) d.setUint32(4 * i, words[i % words.length], true);
  for (let p = size - (size % 4), i = 0; p < size; p++, i++) v[p] = tail[i];
  return v;
}

function wordSet(v: Uint8Array): Set<number> {
  const d = new DataView(v.buffer), words = new Set<number>();
  for (let p = 0; p + 4 <= v.length; p += 4) words.add(d.getUint32(p, true));
  return words;
}

function distinctClass(v: Uint8Array): Class {
  if (v.length % 4 !== 0) return 'value not whole words';
  const words = wordSet(v);
  return words.size > 16 ? 'over 16 distinct words' : words.size > 8 ? '9-16 distinct words' : words.size > 4 ? '5-8 distinct words' : words.size > 2 ? '3-4 distinct words' : '1-2 distinct words';
}

test('a PackedMap holds what a map of the same sets and deletes holds', () => {
  const coverage = new Coverage<Class>('packedMap', {
    '1-2 distinct words': 0.5, '3-4 distinct words': 0.3, '5-8 distinct words': 0.3, '9-16 distinct words': 0.3, 'over 16 distinct words': 0.15, 'value not whole words': 0.1,
    'a short value (under 8 words, kept as it is)': 0.3, 'a value replaced': 0.5, 'a missing key deleted': 0.3, 'a key deleted': 0.5, 'over 64 entries at once': 0.2,
    'long values (palettes)': 0.25, 'the words of the long value before': 0.15,
  });
  const ops = (keys: number) => fc.array(fc.oneof(
    { weight: 3, arbitrary: fc.record({ del: fc.constant(false as const), key: fc.nat(keys - 1), words, tail: fc.array(fc.nat(255), { minLength: 3, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ del: fc.constant(true as const), key: fc.nat(keys - 1) }) },
  ), { maxLength: 600, size: 'max' });
  check(fc.property(shape.chain((s) => fc.tuple(fc.constant(s), ops(s.keys))), ([{ keySize, valueSize }, run]: [{ keySize: number; valueSize: number }, Op[]]) => {
    const m = new PackedMap(keySize, valueSize), model = new Map<string, string>();
    const reached: Class[] = [];
    let most = 0, before = '';
    for (const op of run) {
      const key = keyOf(op.key, keySize), k = hex(key);
      if (op.del) {
        reached.push(model.has(k) ? 'a key deleted' : 'a missing key deleted');
        assert.is(m.remove(key), model.delete(k) ? 1 : 0, `delete ${k}`);
        continue;
      }
      const v = valueOf(op.words, op.tail, valueSize);
      if (model.has(k)) reached.push('a value replaced');
      reached.push(distinctClass(v));
      if (valueSize < 32) reached.push('a short value (under 8 words, kept as it is)');
      if (valueSize >= 128) {
        const set = [...wordSet(v)].sort().join();
        reached.push(set === before ? 'the words of the long value before' : 'long values (palettes)');
        before = set;
      }
      // Set from inside larger arrays, as a diff's sections are read.
      const keys = new Uint8Array(keySize + 3), values = new Uint8Array(valueSize + 5);
      keys.set(key, 3);
      values.set(v, 5);
      m.upsert(keys.subarray(3), values.subarray(5));
      model.set(k, hex(v));
      most = Math.max(most, model.size);
    }
    if (most > 64) reached.push('over 64 entries at once');
    coverage.run(reached);
    assert.is(m.size, model.size);
    const want = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    assert.equal(m.entries().map(([k, v]) => [hex(k), hex(v)]), want);
    for (const [k, v] of want) assert.is(hex(m.get(Buffer.from(k, 'hex'))!), v);
    for (let n = 0; n < 8; n++) if (!model.has(hex(keyOf(n, keySize)))) assert.is(m.get(keyOf(n, keySize)), undefined);
  }), { numRuns: 200 });
  coverage.check();
});

test('churn reuses the room of deleted values: the slabs do not grow while the set of keys stays the same size', () => {
  // The slabs are private: their bytes are what the store costs, which is why PackedMap exists (issue 12).
  const slabBytes = (m: PackedMap) => (m as unknown as { slabs: { bytes: Uint8Array }[] }).slabs.reduce((n, s) => n + s.bytes.length, 0);
  const m = new PackedMap(4, 64);
  const key = (i: number) => Uint8Array.of(0, 0, i >> 8, i & 0xff);
  const value = (i: number) => new Uint8Array(64).fill(i % 3); // one distinct word, or two: packed
  for (let i = 0; i < 100; i++) m.upsert(key(i), value(i));
  const settled = slabBytes(m);
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 100; i++) m.remove(key(i));
    for (let i = 0; i < 100; i++) m.upsert(key(i), value(i + round));
  }
  assert.is(m.size, 100);
  assert.is(slabBytes(m), settled, '50 rounds of churn over 100 keys grew the slabs');
});

test('a packed value takes 4 bytes a distinct word, then 1, 2, 3 or 4 bits a word', () => {
  // by hand: d distinct words, then 16 indices of 1 bit (d <= 2), 2 bits (d <= 4), 3 bits (d <= 8) or 4 bits (d <= 16); raw: 64 bytes
  const sizes = (new PackedMap(8, 64) as unknown as { sizes: number[] }).sizes;
  assert.equal([1, 2, 3, 4, 5, 8, 9, 16].map((d) => sizes[d]), [4 + 2, 8 + 2, 12 + 4, 16 + 4, 20 + 6, 32 + 6, 36 + 8, 64 + 8]);
  assert.is(sizes[0], 64);
});

test('a Maglev chunk (64 words) takes a palette number and its indices: 28 bytes for 5 backends; 65 chunks of one Service share one palette', () => {
  // by hand: 4 bytes of palette number, then 64 indices of 1, 2, 3 or 4 bits; raw: 256 bytes
  const m = new PackedMap(8, 256), sizes = (m as unknown as { sizes: number[] }).sizes;
  assert.equal([1, 2, 3, 4, 5, 8, 9, 16].map((d) => sizes[d]), [4 + 8, 4 + 8, 4 + 16, 4 + 16, 4 + 24, 4 + 24, 4 + 32, 4 + 32]);
  const backends = [17, 3, 99, 42, 8];
  const chunk = (i: number) => {
    const v = new Uint8Array(256), d = new DataView(v.buffer);
    for (let w = 0; w < 64; w++) d.setUint32(4 * w, backends[(w * 7 + i) % 5], true); // each chunk names them in another order
    return v;
  };
  const key = (i: number) => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, i);
  for (let i = 0; i < 65; i++) m.upsert(key(i), chunk(i));
  const palettes = (m as unknown as { palettes: { slabs: { used: number; free: number[] }[] } }).palettes.slabs[5];
  assert.is(palettes.used - palettes.free.length, 1, 'palettes of 5 words in use');
  for (let i = 0; i < 65; i++) assert.equal(m.get(key(i)), chunk(i));
  for (let i = 0; i < 65; i++) m.remove(key(i));
  assert.is(palettes.free.length, palettes.used, 'the palette is freed with its last chunk');
});

test('a value that packing would not make smaller is kept as it is: two distinct words of two take 8 bytes raw, 9 packed', () => {
  // an entry's class (low 5 bits of where[e]): 0 raw, else its number of distinct words
  const classOf = (m: PackedMap) => (m as unknown as { where: Int32Array }).where[0] & 31;
  const small = new PackedMap(4, 8);
  small.upsert(Uint8Array.of(0, 0, 0, 1), Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0));
  assert.is(classOf(small), 0);
  const chunk = new PackedMap(4, 256);
  chunk.upsert(Uint8Array.of(0, 0, 0, 1), new Uint8Array(256).map((_, i) => (i % 8 < 4 ? 1 : 2)));
  assert.is(classOf(chunk), 2, 'two distinct words of 64: packed in 12 bytes');
});

test.run();
