// Map entries under construction. A key is held as two u64 whose numeric
// order is the order of the key's bytes (the first 8 bytes big-endian in hi,
// the rest in lo), so sorting numbers sorts keys as the diff order demands.
// Values are raw bytes, written in place by the caller, or chunks of
// selection tables, made when read (tables.ts): 256 bytes an entry, most of a
// full compile's bytes, neither kept nor copied twice.
import { Backend } from './backends';
import { BlockBuf } from './blockbuf';
import { RawBuf } from './rawbuf';
import { Tables } from './tables';

export class Entries {
  n: i32 = 0;
  private hi: RawBuf = new RawBuf(); // u64 per entry
  private lo: RawBuf = new RawBuf(); // only for keys over 8 bytes: the others have no bytes there
  private vals: RawBuf = new RawBuf(); // address of each value
  private own: BlockBuf; // values written in place
  private nOwn: u32 = 0;
  private chunks: Tables | null = null; // keys and values of table chunks, by entry index

  constructor(public map: i32, public keySize: i32, public valSize: i32) {
    this.own = new BlockBuf(<u32>valSize);
  }

  clear(): void {
    this.n = 0;
    this.nOwn = 0;
    if (this.chunks) this.chunks!.clear();
  }

  /** Adds a key; returns the address of its zeroed value, for the caller to fill. */
  push(hi: u64, lo: u64): usize {
    const v = this.own.ensure(this.nOwn++);
    memory.fill(v, 0, <usize>this.valSize);
    const i = <usize>this.n;
    store<u64>(this.hi.ensure((i + 1) << 3) + (i << 3), hi);
    if (this.keySize > 8) store<u64>(this.lo.ensure((i + 1) << 3) + (i << 3), lo);
    store<usize>(this.vals.ensure((i + 1) << alignof<usize>()) + (i << alignof<usize>()), v);
    this.n++;
    return v;
  }

  /** Adds the entries of a selection table, one a chunk, keyed top | chunk
   * index: a map holds such entries only, or none. They take no room here:
   * tables.ts derives each one's key and value from its table. */
  pushTable(top: u64, backends: StaticArray<Backend>): void {
    if (this.chunks == null) this.chunks = new Tables();
    this.n += <i32>this.chunks!.add(top, backends);
  }

  @inline hiAt(i: i32): u64 { return this.chunks ? this.chunks!.keyAt(<u32>i) : load<u64>(this.hi.ptr + (<usize>i << 3)); }
  @inline loAt(i: i32): u64 { return this.keySize > 8 ? load<u64>(this.lo.ptr + (<usize>i << 3)) : 0; }
  /** Address of value i; a table chunk's is valid until chunks of two other tables are read. */
  @inline valueAt(i: i32): usize {
    return this.chunks ? this.chunks!.chunk(<u32>i) : load<usize>(this.vals.ptr + (<usize>i << alignof<usize>()));
  }

  /** Indices of the entries in key order (a stable bottom-up merge sort;
   * one pass when they were pushed in order, as the engine pushes most). */
  order(): Int32Array {
    const n = this.n;
    let a = new Int32Array(n);
    for (let i = 0; i < n; i++) unchecked(a[i] = i);
    if (this.pushedInOrder()) return a;
    let b = new Int32Array(n);
    for (let w = 1; w < n; w <<= 1) {
      for (let lo = 0; lo < n; lo += 2 * w) {
        const mid = min(lo + w, n), hi = min(lo + 2 * w, n);
        let i = lo, j = mid, k = lo;
        while (i < mid && j < hi) {
          const x = unchecked(a[i]), y = unchecked(a[j]);
          if (this.less(y, x)) { unchecked(b[k++] = y); j++; } else { unchecked(b[k++] = x); i++; }
        }
        while (i < mid) unchecked(b[k++] = a[i++]);
        while (j < hi) unchecked(b[k++] = a[j++]);
      }
      const t = a; a = b; b = t;
    }
    return a;
  }

  private pushedInOrder(): bool {
    for (let i = 1; i < this.n; i++) if (this.less(i, i - 1)) return false;
    return true;
  }

  @inline less(x: i32, y: i32): bool { return this.lessThan(x, this, y); }

  @inline lessThan(x: i32, other: Entries, y: i32): bool {
    const hx = this.hiAt(x), hy = other.hiAt(y);
    return hx < hy || (hx == hy && this.loAt(x) < other.loAt(y));
  }

  @inline sameKey(x: i32, other: Entries, y: i32): bool {
    return this.hiAt(x) == other.hiAt(y) && this.loAt(x) == other.loAt(y);
  }

  /** Writes key i's bytes at dst. */
  writeKey(i: i32, dst: usize): void {
    const hi = this.hiAt(i), lo = this.loAt(i);
    const ks = this.keySize;
    if (ks >= 8) store<u64>(dst, bswap<u64>(hi));
    if (ks == 16) { store<u64>(dst, bswap<u64>(lo), 8); return; }
    for (let j = ks >= 8 ? 8 : 0; j < ks; j++) {
      const word = j < 8 ? hi : lo;
      store<u8>(dst + <usize>j, <u8>(word >> (56 - 8 * (<u64>(j & 7)))));
    }
  }
}
