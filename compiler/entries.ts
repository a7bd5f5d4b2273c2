// Map entries under construction. A key is held as two u64 whose numeric
// order is the order of the key's bytes (the first 8 bytes big-endian in hi,
// the rest in lo), so sorting numbers sorts keys as the diff order demands.
// Values are raw bytes, written in place by the caller.
import { RawBuf } from './rawbuf';

export class Entries {
  n: i32 = 0;
  private hi: RawBuf = new RawBuf(); // u64 per entry
  private lo: RawBuf = new RawBuf();
  private vals: RawBuf = new RawBuf();

  constructor(public map: i32, public keySize: i32, public valSize: i32) {}

  clear(): void { this.n = 0; }

  /** Adds a key; returns the address of its zeroed value, valid until the next push. */
  push(hi: u64, lo: u64): usize {
    const i = <usize>this.n;
    store<u64>(this.hi.ensure((i + 1) << 3) + (i << 3), hi);
    store<u64>(this.lo.ensure((i + 1) << 3) + (i << 3), lo);
    const vs = <usize>this.valSize;
    const v = this.vals.ensure((i + 1) * vs) + i * vs;
    memory.fill(v, 0, vs);
    this.n++;
    return v;
  }

  @inline hiAt(i: i32): u64 { return load<u64>(this.hi.ptr + (<usize>i << 3)); }
  @inline loAt(i: i32): u64 { return load<u64>(this.lo.ptr + (<usize>i << 3)); }
  @inline valueAt(i: i32): usize { return this.vals.ptr + <usize>i * <usize>this.valSize; }

  /** Indices of the entries in key order (a stable bottom-up merge sort). */
  order(): Int32Array {
    const n = this.n;
    let a = new Int32Array(n), b = new Int32Array(n);
    for (let i = 0; i < n; i++) unchecked(a[i] = i);
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
