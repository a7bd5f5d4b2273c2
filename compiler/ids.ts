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

function compareStrings(a: string, b: string): i32 {
  return i32(a > b) - i32(a < b);
}

/** Ids of backend sets, by name. */
export class NameIds {
  private buckets: Map<u32, string[]> = new Map();
  private ids: Map<string, u32> = new Map();

  bucket(name: string): u32 { return bucketOf(hashString(name, SEED_BSET)); }

  add(name: string): u32 {
    const b = this.bucket(name);
    if (!this.buckets.has(b)) this.buckets.set(b, []);
    const names = this.buckets.get(b);
    names.push(name);
    names.sort(compareStrings);
    return b;
  }

  remove(name: string): u32 {
    const b = this.bucket(name);
    const names = this.buckets.get(b);
    names.splice(names.indexOf(name), 1);
    if (names.length == 0) this.buckets.delete(b);
    if (this.ids.has(name)) this.ids.delete(name);
    return b;
  }

  names(b: u32): string[] { return this.buckets.has(b) ? this.buckets.get(b).slice(0) : []; }

  /** Id of a live name; 0 when its bucket is full (more than MAX_RANK names). */
  get(name: string): u32 { return this.ids.has(name) ? this.ids.get(name) : 0; }

  /** Renumbers one bucket; returns the names whose id changed. */
  renumber(b: u32): string[] {
    const changed: string[] = [];
    if (!this.buckets.has(b)) return changed;
    const names = this.buckets.get(b);
    for (let i = 0; i < names.length; i++) {
      const id = i < MAX_RANK ? b | <u32>i : 0;
      if (this.get(names[i]) == id) continue;
      if (id == 0) this.ids.delete(names[i]);
      else this.ids.set(names[i], id);
      changed.push(names[i]);
    }
    return changed;
  }
}

/** Gives each backend of one set its id; returns those that got one, sorted
 * by id. Backends past MAX_RANK in a full bucket are left out. */
export function assignBackendIds(bs: Backend[]): Backend[] {
  for (let i = 0; i < bs.length; i++) bs[i].id = bucketOf(hashAddr(bs[i].ip, bs[i].port, SEED_BACKEND));
  bs.sort((a: Backend, b: Backend): i32 => {
    if (a.id != b.id) return i32(a.id > b.id) - i32(a.id < b.id);
    return i32(a.addr > b.addr) - i32(a.addr < b.addr);
  });
  const out: Backend[] = [];
  let rank = 0;
  for (let i = 0; i < bs.length; i++) {
    rank = i > 0 && bs[i - 1].id == bs[i].id ? rank + 1 : 0;
    if (rank < MAX_RANK) out.push(bs[i]);
  }
  for (let i = 0, r = 0; i < out.length; i++) {
    r = i > 0 && (out[i - 1].id & ~(<u32>MAX_RANK - 1)) == out[i].id ? r + 1 : 0;
    out[i].id |= <u32>r;
  }
  return out;
}
