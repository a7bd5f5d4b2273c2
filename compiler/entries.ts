// Map entries under construction. A key is held as two u64 whose numeric
// order is the order of the key's bytes (the first 8 bytes big-endian in hi,
// the rest in lo), so sorting numbers sorts keys as the diff order demands.
// Values are raw bytes, written in place by the caller.

export class Entries {
  n: i32 = 0;
  hi: Uint64Array = new Uint64Array(64);
  lo: Uint64Array = new Uint64Array(64);
  vals: Uint8Array;

  constructor(public map: i32, public keySize: i32, public valSize: i32) {
    this.vals = new Uint8Array(64 * valSize);
  }

  /** Adds a key; returns the address of its zeroed value, valid until the next push. */
  push(hi: u64, lo: u64): usize {
    if (this.n == this.hi.length) this.grow();
    unchecked(this.hi[this.n] = hi);
    unchecked(this.lo[this.n] = lo);
    const v = this.vals.dataStart + <usize>(this.n * this.valSize);
    memory.fill(v, 0, <usize>this.valSize);
    this.n++;
    return v;
  }

  valueAt(i: i32): usize { return this.vals.dataStart + <usize>(i * this.valSize); }

  private grow(): void {
    const cap = this.hi.length * 2;
    const hi = new Uint64Array(cap), lo = new Uint64Array(cap), vals = new Uint8Array(cap * this.valSize);
    hi.set(this.hi);
    lo.set(this.lo);
    vals.set(this.vals);
    this.hi = hi;
    this.lo = lo;
    this.vals = vals;
  }

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
    const hx = unchecked(this.hi[x]), hy = unchecked(other.hi[y]);
    return hx < hy || (hx == hy && unchecked(this.lo[x]) < unchecked(other.lo[y]));
  }

  @inline sameKey(x: i32, other: Entries, y: i32): bool {
    return unchecked(this.hi[x]) == unchecked(other.hi[y]) && unchecked(this.lo[x]) == unchecked(other.lo[y]);
  }

  /** Writes key i's bytes at dst. */
  writeKey(i: i32, dst: usize): void {
    const hi = unchecked(this.hi[i]), lo = unchecked(this.lo[i]);
    const ks = this.keySize;
    if (ks >= 8) store<u64>(dst, bswap<u64>(hi));
    if (ks == 16) { store<u64>(dst, bswap<u64>(lo), 8); return; }
    for (let j = ks >= 8 ? 8 : 0; j < ks; j++) {
      const word = j < 8 ? hi : lo;
      store<u8>(dst + <usize>j, <u8>(word >> (56 - 8 * (<u64>(j & 7)))));
    }
  }
}
