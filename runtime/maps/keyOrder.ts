// Packed map keys (n keys of ks bytes end to end) in the order of their
// bytes, as Buffer.compare sorts them, without an object per key: an agent
// that restarts reads its maps whole (hundreds of thousands of entries) to
// reconcile them with its image, where sorting pairs of subarrays with
// Buffer.compare took most of a second.

/** The indices of n packed keys of ks bytes, ordered by the keys' bytes (unsigned, first byte first):
 * a least-significant-byte-first radix sort, ks × n steps. */
export function keyOrder(keys: Uint8Array, ks: number, n: number): Uint32Array {
  let order = new Uint32Array(n), next = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const count = new Uint32Array(257);
  for (let b = ks - 1; b >= 0 && n > 1; b--) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[keys[i * ks + b] + 1]++;
    if (count.includes(n)) continue; // every key has the same byte here: the order stands
    for (let v = 0; v < 256; v++) count[v + 1] += count[v];
    for (let i = 0; i < n; i++) {
      const j = order[i];
      next[count[keys[j * ks + b]]++] = j;
    }
    [order, next] = [next, order];
  }
  return order;
}

/** memcmp of n bytes of a from i and of b from j: negative, 0 or positive. */
export function compareAt(a: Uint8Array, i: number, b: Uint8Array, j: number, n: number): number {
  for (let k = 0; k < n; k++) {
    const d = a[i + k] - b[j + k];
    if (d !== 0) return d;
  }
  return 0;
}

/** The index of the key at byte at of keys among n sorted packed keys of ks bytes, or -1. */
export function findKey(sorted: Uint8Array, n: number, ks: number, keys: Uint8Array, at: number): number {
  let lo = 0, hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1, c = compareAt(sorted, mid * ks, keys, at, ks);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The entries of size bytes at the given indices of packed, packed in that order. */
export function gather(packed: Uint8Array, size: number, indices: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) out.set(packed.subarray(indices[k] * size, (indices[k] + 1) * size), k * size);
  return out;
}
