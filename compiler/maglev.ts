// Maglev consistent hashing (Eisenbud et al., NSDI 2016). Each backend walks
// its own permutation of the table's slots, and backends take turns claiming
// their next free slot. Removing a backend frees only its slots, and the
// others' claims barely move, provided the table has at least ~100 slots per
// backend. Tables come from a fixed ladder of primes, each the first at or
// above 100 x 2^k slots: memory follows a service's backend count, and a
// table is remapped only when that count crosses a power of two.
import { SL_MAGLEV_MIN } from './abi/layouts';
import { Backend } from './backends';
import { hashAddr } from './hash';

const SEED_MAGLEV: u64 = 0x4d41474c4556;
const MAX_STEP: i32 = 16; // 100 x 2^16 slots: enough for the 65535 backends a count holds

const ladder = new StaticArray<u32>(MAX_STEP + 1);

function isPrime(n: u32): bool {
  for (let d: u32 = 2; d * d <= n; d++) if (n % d == 0) return false;
  return n >= 2;
}

/** Table size for n backends: 0 for none. */
export function tableSize(n: i32): u32 {
  if (n <= 0) return 0;
  const k = n == 1 ? 0 : 32 - clz<u32>(<u32>(n - 1));
  if (k > MAX_STEP) throw new Error('too many backends for one Maglev table');
  if (ladder[k] == 0) {
    let p = (<u32>SL_MAGLEV_MIN) << k;
    while (!isPrime(p)) p++;
    ladder[k] = p;
  }
  return ladder[k];
}

let table = new Uint32Array(0);
let cursor = new Uint32Array(0);
let skip = new Uint32Array(0);

/** Fills a table of m slots with backend ids; returns the address of the
 * m u32 ids, in a buffer the next call reuses. */
export function populate(bs: Backend[], m: u32): usize {
  const n = bs.length;
  if (<u32>table.length < m) table = new Uint32Array(m);
  if (cursor.length < n) { cursor = new Uint32Array(n); skip = new Uint32Array(n); }
  const t = table.dataStart, cur = cursor.dataStart, sk = skip.dataStart;
  memory.fill(t, 0, <usize>m << 2); // ids are never 0
  for (let i = 0; i < n; i++) {
    const h = hashAddr(bs[i].ip, bs[i].port, SEED_MAGLEV);
    store<u32>(cur + (<usize>i << 2), <u32>((h >> 32) % <u64>m));
    store<u32>(sk + (<usize>i << 2), <u32>((h & 0xffffffff) % <u64>(m - 1)) + 1);
  }
  let filled: u32 = 0;
  while (filled < m) {
    for (let i = 0; i < n && filled < m; i++) {
      const ci = cur + (<usize>i << 2);
      const s = load<u32>(sk + (<usize>i << 2));
      let c = load<u32>(ci);
      while (load<u32>(t + (<usize>c << 2)) != 0) { c += s; if (c >= m) c -= m; }
      store<u32>(t + (<usize>c << 2), bs[i].id);
      c += s; if (c >= m) c -= m;
      store<u32>(ci, c);
      filled++;
    }
  }
  return t;
}
