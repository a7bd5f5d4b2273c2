// One map's entries for the in-memory store (--dry-run's maps, and compile's
// and replay's), in a few typed arrays rather than objects per entry. When
// every Service had a selection table, issue 12's cluster came to 430,000
// entries, 325,000 of them sl_maglev chunks of 64 backend ids (256 bytes
// each, 83 MB in all); a large backend set still has such tables. A chunk
// names few backends, so a value is kept as the distinct 32-bit words it has
// (up to 16) and, for each word, its index among them in 1, 2, 3 or 4 bits.
// A value of more distinct words, one this would not make smaller, and a
// value under PACKED_MIN_WORDS words are kept as they are. Keys live in one
// array, and a hash table of entry numbers finds them (open addressing,
// linear probing, at most three quarters full).
//
// The chunks of one Service's table name the same backends, and are written
// one after another. So a map of long values (a chunk is 64 words) keeps
// each value's distinct words, sorted, in a palette of their own that the
// next value shares when it has the same ones: a chunk of 5 backends takes
// 4 bytes for its palette and 24 for its indices, where it took 44.
import { compareAt } from './keyOrder.ts';

const MAX_DISTINCT = 16;
const CLASS_BITS = 5; // an entry's value: its class (0 raw, else its distinct words), then its slot
const PALETTED_WORDS = 32; // values of this many words or more share palettes
// Shorter values are kept as they are: packing saves a few bytes of an sl_svc
// or sl_be value at the cost of hashing each of its words, and most entries
// are such values (40,000 of the full sync's 53,000).
const PACKED_MIN_WORDS = 8;
const bitsFor = (distinct: number) => (distinct <= 2 ? 1 : distinct <= 4 ? 2 : distinct <= 8 ? 3 : 4);

/** Fixed-size records in one growing array, with a free list. */
class Slab {
  bytes: Uint8Array;
  ints: Int32Array; // the same memory, for records of whole words
  private readonly size: number;
  private used = 0;
  private readonly free: number[] = [];

  constructor(size: number) {
    this.size = size;
    this.bytes = new Uint8Array(size * 64);
    this.ints = new Int32Array(this.bytes.buffer);
  }

  alloc(): number {
    if (this.free.length > 0) return this.free.pop()!;
    if ((this.used + 1) * this.size > this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
      this.ints = new Int32Array(grown.buffer);
    }
    return this.used++;
  }

  release(slot: number): void {
    this.free.push(slot);
  }
}

/**
 * Palettes of d distinct words (sorted), each kept as the count of values
 * that use it, then its words. Only the last one made or shared for each d
 * is found again.
 */
class Palettes {
  private readonly slabs: Slab[] = [];
  private readonly last = new Int32Array(MAX_DISTINCT + 1).fill(-1);

  constructor() {
    for (let d = 0; d <= MAX_DISTINCT; d++) this.slabs.push(new Slab(4 + 4 * d));
  }

  /** The palette of distinct[0..d), made or shared; its use counted. */
  take(distinct: Int32Array, d: number): number {
    const slab = this.slabs[d];
    let slot = this.last[d];
    if (slot < 0 || !this.holds(slab.ints, slot * (d + 1) + 1, distinct, d)) {
      slot = slab.alloc();
      const ints = slab.ints, o = slot * (d + 1);
      ints[o] = 0;
      for (let j = 0; j < d; j++) ints[o + 1 + j] = distinct[j];
      this.last[d] = slot;
    }
    slab.ints[slot * (d + 1)]++;
    return slot;
  }

  /** Counts one use of palette slot (of d words) off; frees it at none. */
  drop(d: number, slot: number): void {
    if (--this.slabs[d].ints[slot * (d + 1)] > 0) return;
    this.slabs[d].release(slot);
    if (this.last[d] === slot) this.last[d] = -1;
  }

  /** Copies palette slot's d words into out. */
  read(d: number, slot: number, out: Int32Array): void {
    out.set(this.slabs[d].ints.subarray(slot * (d + 1) + 1, slot * (d + 1) + 1 + d));
  }

  private holds(ints: Int32Array, o: number, distinct: Int32Array, d: number): boolean {
    for (let j = 0; j < d; j++) if (ints[o + j] !== distinct[j]) return false;
    return true;
  }
}

export class PackedMap {
  private readonly ks: number;
  private readonly vs: number;
  private readonly words: number;
  /** Record size by class: 0 the value as it is, d its d distinct words and their indices. */
  private readonly sizes: number[];
  private readonly slabs: Slab[];
  private readonly palettes: Palettes | null;
  private keys: Uint8Array; // entry e's key at e * ks
  private where: Int32Array; // entry e's value: slot << CLASS_BITS | class
  private index = new Int32Array(64); // by hash of key, entry number + 1 (0: none), so that a new table needs no fill
  private entriesUsed = 0;
  private readonly freeEntries: number[] = [];
  private live = 0;
  private readonly distinct = new Int32Array(MAX_DISTINCT);
  // By a hash of a word, the value being packed's stamp and the word's index in distinct (stamp << 5 | index): a slot
  // of another stamp is free, so the table is not cleared for each value.
  private readonly slotOf = new Int32Array(2 * MAX_DISTINCT);
  private stamp = 0;
  private readonly of: Uint8Array; // per word of the value being packed, its index in distinct
  private readonly rank = new Int32Array(MAX_DISTINCT); // sortDistinct's scratch
  private readonly moved = new Int32Array(MAX_DISTINCT);
  private readonly unpacked = new Int32Array(MAX_DISTINCT); // valueOf's

  constructor(keySize: number, valueSize: number) {
    this.ks = keySize;
    this.vs = valueSize;
    this.words = valueSize % 4 === 0 && valueSize >= 4 * PACKED_MIN_WORDS ? valueSize / 4 : 0; // else kept as it is
    this.palettes = this.words >= PALETTED_WORDS ? new Palettes() : null;
    this.sizes = [valueSize];
    for (let d = 1; d <= MAX_DISTINCT; d++) this.sizes.push((this.palettes ? 4 : 4 * d) + Math.ceil((this.words * bitsFor(d)) / 8));
    this.slabs = this.sizes.map((size) => new Slab(size));
    this.of = new Uint8Array(this.words);
    this.keys = new Uint8Array(keySize * 64);
    this.where = new Int32Array(64);
  }

  get size(): number {
    return this.live;
  }

  /** Sets each key (keys back to back) to its value (values in the same order). */
  upsert(keys: Uint8Array, values: Uint8Array): void {
    const n = keys.length / this.ks, view = new DataView(values.buffer, values.byteOffset, values.byteLength);
    if (4 * (this.live + n) > 3 * this.index.length) this.rehash(2 ** Math.ceil(Math.log2((4 * (this.live + n)) / 3)));
    if (this.live === 0 && n > this.where.length) this.growEntries(n); // a map filled at once (a full sync) grows once
    for (let i = 0; i < n; i++) this.set(keys, i * this.ks, values, view, i * this.vs);
  }

  /** Deletes each key (back to back) in turn; stops at the first not present. Returns how many it deleted. */
  remove(keys: Uint8Array): number {
    const n = keys.length / this.ks;
    for (let i = 0; i < n; i++) {
      const e = this.find(keys, i * this.ks);
      if (e < 0) return i;
      this.release(e);
      this.unindex(e);
      this.freeEntries.push(e);
      this.live--;
    }
    return n;
  }

  get(key: Uint8Array): Uint8Array | undefined {
    const e = this.find(key, 0);
    return e < 0 ? undefined : this.valueOf(e);
  }

  /** Entries in key-byte order. */
  entries(): [Uint8Array, Uint8Array][] {
    const live: number[] = [];
    for (const x of this.index) if (x) live.push(x - 1);
    live.sort((a, b) => compareAt(this.keys, a * this.ks, this.keys, b * this.ks, this.ks));
    return live.map((e) => [this.keys.slice(e * this.ks, (e + 1) * this.ks), this.valueOf(e)]);
  }

  private set(keys: Uint8Array, ko: number, values: Uint8Array, view: DataView, vo: number): void {
    let e = this.find(keys, ko);
    const was = e < 0 ? -1 : e;
    if (e < 0) e = this.insert(keys, ko);
    const c = this.classOf(view, vo), slab = this.slabs[c], slot = slab.alloc();
    if (c === 0) copyInto(slab.bytes, slot * this.vs, values, vo, this.vs);
    else this.pack(c, slab.bytes, slot * this.sizes[c]);
    if (was >= 0) this.release(was); // after the new value is packed, which may share the old one's palette
    this.where[e] = (slot << CLASS_BITS) | c;
  }

  private release(e: number): void {
    const c = this.where[e] & ((1 << CLASS_BITS) - 1), slot = this.where[e] >>> CLASS_BITS, slab = this.slabs[c];
    if (c > 0 && this.palettes) this.palettes.drop(c, readU32(slab.bytes, slot * this.sizes[c]));
    slab.release(slot);
  }

  /**
   * The value's class; for a class other than 0, its distinct words and their
   * indices are left in this.distinct and this.of. A word's index is found by
   * a hash of it (a table of 32 for up to 16 words): searching the list of
   * them costs twice as much, mostly in mispredicted branches.
   */
  private classOf(v: DataView, vo: number): number {
    const slotOf = this.slotOf, distinct = this.distinct, of = this.of;
    if (++this.stamp > 0x3ffffff) {
      slotOf.fill(0); // stamp 0 marks a slot free
      this.stamp = 1;
    }
    const stamp = this.stamp << 5;
    let d = 0;
    for (let i = 0, p = vo; i < this.words; i++, p += 4) {
      const w = v.getInt32(p, true);
      let h = Math.imul(w, 0x9e3779b1) >>> 27, s;
      while (((s = slotOf[h]) & ~31) === stamp && distinct[s & 31] !== w) h = (h + 1) & 31;
      if ((s & ~31) !== stamp) {
        if (d === MAX_DISTINCT) return 0;
        distinct[d] = w;
        slotOf[h] = s = stamp | d++;
      }
      of[i] = s & 31;
    }
    if (d === 0 || this.sizes[d] >= this.vs) return 0;
    if (this.palettes) this.sortDistinct(d);
    return d;
  }

  /** Sorts distinct[0..d), and renumbers the indices in of to match: one palette for one set of words. */
  private sortDistinct(d: number): void {
    const distinct = this.distinct, rank = this.rank, of = this.of;
    for (let j = 0; j < d; j++) rank[j] = j;
    for (let j = 1; j < d; j++) {
      const w = distinct[j], r = rank[j];
      let k = j;
      for (; k > 0 && distinct[k - 1] > w; k--) {
        distinct[k] = distinct[k - 1];
        rank[k] = rank[k - 1];
      }
      distinct[k] = w;
      rank[k] = r;
    }
    for (let k = 0; k < d; k++) this.moved[rank[k]] = k; // rank[k]: the old index now at k
    for (let i = 0; i < this.words; i++) of[i] = this.moved[of[i]];
  }

  private pack(d: number, out: Uint8Array, o: number): void {
    if (this.palettes) {
      writeU32(out, o, this.palettes.take(this.distinct, d));
      o += 4;
    } else {
      for (let j = 0; j < d; j++, o += 4) writeU32(out, o, this.distinct[j]);
    }
    const of = this.of, bits = bitsFor(d);
    let acc = 0, held = 0; // bits not yet written, low first
    for (let i = 0; i < this.words; i++) {
      acc |= of[i] << held;
      for (held += bits; held >= 8; held -= 8, acc >>>= 8) out[o++] = acc;
    }
    if (held > 0) out[o] = acc;
  }

  private valueOf(e: number): Uint8Array {
    const c = this.where[e] & ((1 << CLASS_BITS) - 1), b = this.slabs[c].bytes;
    let o = (this.where[e] >>> CLASS_BITS) * this.sizes[c];
    if (c === 0) return b.slice(o, o + this.vs);
    const words = this.unpacked;
    if (this.palettes) {
      this.palettes.read(c, readU32(b, o), words);
      o += 4;
    } else {
      for (let j = 0; j < c; j++, o += 4) words[j] = readU32(b, o);
    }
    const out = new Uint8Array(this.vs), bits = bitsFor(c), mask = (1 << bits) - 1;
    for (let i = 0, bit = 0; i < this.words; i++, bit += bits) {
      // 3-bit indices cross bytes: read two (past the value's last byte, a neighbour's or none, masked off)
      writeU32(out, 4 * i, words[((b[o + (bit >> 3)] | (b[o + (bit >> 3) + 1] << 8)) >> (bit & 7)) & mask]);
    }
    return out;
  }

  // ---- the keys' hash table ----

  private hash(key: Uint8Array, ko: number): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < this.ks; i++) h = Math.imul(h ^ key[ko + i], 0x01000193);
    return (h ^ (h >>> 15)) & (this.index.length - 1);
  }

  private sameKey(e: number, key: Uint8Array, ko: number): boolean {
    for (let i = 0, p = e * this.ks; i < this.ks; i++) if (this.keys[p + i] !== key[ko + i]) return false;
    return true;
  }

  /** The key's entry, -1 when it has none. */
  private find(key: Uint8Array, ko: number): number {
    const mask = this.index.length - 1;
    for (let h = this.hash(key, ko); ; h = (h + 1) & mask) {
      const e = this.index[h] - 1;
      if (e < 0 || this.sameKey(e, key, ko)) return e;
    }
  }

  private insert(key: Uint8Array, ko: number): number {
    let e = this.freeEntries.pop();
    if (e === undefined) {
      e = this.entriesUsed++;
      if (e >= this.where.length) this.growEntries(2 * this.where.length);
    }
    this.keys.set(key.subarray(ko, ko + this.ks), e * this.ks);
    this.place(e);
    this.live++;
    return e;
  }

  private place(e: number): void {
    const mask = this.index.length - 1;
    let h = this.hash(this.keys, e * this.ks);
    while (this.index[h]) h = (h + 1) & mask;
    this.index[h] = e + 1;
  }

  /** Removes e from the table, moving back the entries after it that its slot had pushed on. */
  private unindex(e: number): void {
    const mask = this.index.length - 1;
    let hole = this.hash(this.keys, e * this.ks);
    while (this.index[hole] !== e + 1) hole = (hole + 1) & mask;
    this.index[hole] = 0;
    for (let h = (hole + 1) & mask; this.index[h]; h = (h + 1) & mask) {
      const home = this.hash(this.keys, (this.index[h] - 1) * this.ks);
      // The entry at h may move into the hole unless its home lies in (hole, h].
      if ((h - home & mask) >= (h - hole & mask)) {
        this.index[hole] = this.index[h];
        this.index[h] = 0;
        hole = h;
      }
    }
  }

  private growEntries(entries: number): void {
    const keys = new Uint8Array(entries * this.ks), where = new Int32Array(entries);
    keys.set(this.keys);
    where.set(this.where);
    this.keys = keys;
    this.where = where;
  }

  private rehash(size: number): void {
    const old = this.index;
    this.index = new Int32Array(size);
    for (const x of old) if (x) this.place(x - 1);
  }
}

/** Little-endian, as classOf reads a value's words: a value comes back byte for byte. */
function writeU32(b: Uint8Array, o: number, w: number): void {
  b[o] = w;
  b[o + 1] = w >> 8;
  b[o + 2] = w >> 16;
  b[o + 3] = w >> 24;
}

function readU32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** n bytes from src at so into dst at o: by hand for a short value, where a subarray to set() from costs more than the copy. */
function copyInto(dst: Uint8Array, o: number, src: Uint8Array, so: number, n: number): void {
  if (n > 64) return dst.set(src.subarray(so, so + n), o);
  for (let i = 0; i < n; i++) dst[o + i] = src[so + i];
}
