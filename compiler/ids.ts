// Content-derived ids. An id is 1 · hash bits · 4 rank bits: the hash of the
// name picks a bucket, and the rank is the name's position among the names
// in that bucket, sorted. So an id depends only on the set of names, never
// on arrival order; a new name can renumber only the names of its own bucket;
// and the top bit keeps every id non-zero (0 means "none" in the maps).
import { Backend } from './backends';
import { hashAddr, hashString } from './hash';

const TOP: u32 = 0x80000000;
const RANK_BITS: u32 = 4;
export const MAX_RANK: i32 = 1 << RANK_BITS;
const SEED_BSET: u64 = 0x5345545f4944; // distinct seeds keep the id hash apart from Maglev's
const SEED_BACKEND: u64 = 0x42455f4944;

/** Hash bits per id: 27 fills the id; tests lower it to force collisions. */
let hashBits: u32 = 27;

export function setHashBits(bits: u32): void {
  if (bits < 1 || bits > 27) throw new Error('id hash bits must be 1..27');
  hashBits = bits;
}

@inline function bucketOf(h: u64): u32 {
  return TOP | ((<u32>(h >> 32) & ((1 << hashBits) - 1)) << RANK_BITS);
}

const NO_NAMES: string[] = []; // never written: names() hands it out read-only

function compareStrings(a: string, b: string): i32 {
  return i32(a > b) - i32(a < b);
}

/** Ids of backend sets, by name. */
export class NameIds {
  // Nearly every bucket holds one name: an array for each was the largest
  // part of what an identity or a backend set's id cost the heap.
  private one: Map<u32, string> = new Map();
  private many: Map<u32, string[]> = new Map(); // buckets of several names, sorted
  private ids: Map<string, u32> = new Map();

  bucket(name: string): u32 { return bucketOf(hashString(name, SEED_BSET)); }

  add(name: string): u32 {
    const b = this.bucket(name);
    if (this.many.has(b)) {
      const names = this.many.get(b);
      names.push(name);
      names.sort(compareStrings);
    } else if (this.one.has(b)) {
      const names = [this.one.get(b), name];
      names.sort(compareStrings);
      this.many.set(b, names);
      this.one.delete(b);
    } else {
      this.one.set(b, name);
    }
    return b;
  }

  remove(name: string): u32 {
    const b = this.bucket(name);
    if (this.many.has(b)) {
      const names = this.many.get(b);
      names.splice(names.indexOf(name), 1);
      if (names.length == 1) {
        this.one.set(b, unchecked(names[0]));
        this.many.delete(b);
      }
    } else {
      this.one.delete(b);
    }
    if (this.ids.has(name)) this.ids.delete(name);
    return b;
  }

  /** The names in bucket b, sorted; the caller must not change them. */
  names(b: u32): string[] {
    if (this.many.has(b)) return this.many.get(b);
    return this.one.has(b) ? [this.one.get(b)] : NO_NAMES;
  }

  /** Id of a live name; 0 when its bucket is full (more than MAX_RANK names). */
  get(name: string): u32 { return this.ids.has(name) ? this.ids.get(name) : 0; }

  /** Gives the names of bucket b their ids by rank. */
  renumber(b: u32): void {
    const names = this.names(b);
    for (let i = 0; i < names.length; i++) {
      const name = unchecked(names[i]);
      if (i < MAX_RANK) this.ids.set(name, b | <u32>i);
      else if (this.ids.has(name)) this.ids.delete(name);
    }
  }
}

function byIdThenAddr(a: Backend, b: Backend): i32 {
  if (a.id != b.id) return i32(a.id > b.id) - i32(a.id < b.id);
  return i32(a.addr > b.addr) - i32(a.addr < b.addr);
}

/** The backends of bs (sorted by id) whose bucket rank is under MAX_RANK:
 * bs itself unless a bucket is full. */
function withinRank(bs: StaticArray<Backend>): StaticArray<Backend> {
  let kept = 0;
  for (let i = 0, rank = 0; i < bs.length; i++) {
    rank = i > 0 && unchecked(bs[i - 1]).id == unchecked(bs[i]).id ? rank + 1 : 0;
    if (rank < MAX_RANK) kept++;
  }
  if (kept == bs.length) return bs;
  const out = new StaticArray<Backend>(kept);
  for (let i = 0, rank = 0, k = 0; i < bs.length; i++) {
    rank = i > 0 && unchecked(bs[i - 1]).id == unchecked(bs[i]).id ? rank + 1 : 0;
    if (rank < MAX_RANK) unchecked(out[k++] = bs[i]);
  }
  return out;
}

/** Gives each backend of one set its id; returns those that got one, sorted
 * by id. Backends past MAX_RANK in a full bucket are left out. */
export function assignBackendIds(bs: StaticArray<Backend>): StaticArray<Backend> {
  for (let i = 0; i < bs.length; i++) {
    const b = unchecked(bs[i]);
    b.id = bucketOf(hashAddr(b.ip, b.port, SEED_BACKEND));
  }
  bs.sort(byIdThenAddr);
  const out = withinRank(bs);
  for (let i = 0, r = 0; i < out.length; i++) {
    r = i > 0 && (unchecked(out[i - 1]).id & ~(<u32>MAX_RANK - 1)) == unchecked(out[i]).id ? r + 1 : 0;
    unchecked(out[i]).id |= <u32>r;
  }
  return out;
}
