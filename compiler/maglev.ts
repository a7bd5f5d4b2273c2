// Backend selection tables, Maglev-style (Eisenbud et al., NSDI 2016): a
// prime number of slots, each naming a backend; the datapath picks slot
// flow_hash % slots. The tables come from a fixed ladder of sizes, so memory
// follows a service's backend count and a table is remapped only when that
// count crosses a power of two. Within a step, removing a backend must move
// only its own flows plus at most 1% of the rest, measured by
// property-tests/compiler/maglev.prop.ts. Two fills meet that:
//  - up to RENDEZVOUS_MAX backends, bounded-load rendezvous hashing: slot by
//    slot, the backend with the highest hash(backend, slot) among those under
//    1.1 x their fair share. At 100-200 slots per backend it moves under 1%
//    extra (Maglev's round-robin fill moves 2-3% at that size), and no
//    backend gets more than 1.1 x its share (the least loaded may get ~0.7 x:
//    the price of the low disruption). It costs slots x backends.
//  - above, Maglev's permutation fill, which costs slots x log(slots), on
//    tables of at least 800 slots per backend, where its extra moves stay
//    under 1%.
import { SL_MAGLEV_MIN } from './abi/layouts';
import { Backend } from './backends';
import { fmix64, hashAddr } from './hash';

const SEED: u64 = 0x4d41474c4556;
const RENDEZVOUS_MAX: i32 = 128;
const MAGLEV_RATIO: u32 = 800;
const MAX_STEP: i32 = 16; // 2^16 backends: more than a count holds

const ladder = new StaticArray<u32>(MAX_STEP + 1);

function isPrime(n: u32): bool {
  for (let d: u32 = 2; d * d <= n; d++) if (n % d == 0) return false;
  return n >= 2;
}

@inline function step(n: i32): i32 {
  return n == 1 ? 0 : 32 - clz<u32>(<u32>(n - 1));
}

/** Table size for n backends: 0 for none. */
export function tableSize(n: i32): u32 {
  if (n <= 0) return 0;
  const k = step(n);
  if (k > MAX_STEP) throw new Error('too many backends for one table');
  if (ladder[k] == 0) {
    let p = (n <= RENDEZVOUS_MAX ? <u32>SL_MAGLEV_MIN : MAGLEV_RATIO) << k;
    while (!isPrime(p)) p++;
    ladder[k] = p;
  }
  return ladder[k];
}

let table = new Uint32Array(0);
// hash(slot) for each slot of each ladder size: the same for every table of that size.
const slotHashes = new StaticArray<Uint64Array | null>(MAX_STEP + 1);
let scratchA = new Uint64Array(0);
let scratchB = new Uint32Array(0);

/** Fills a table of m slots with backend ids; returns the address of the m
 * u32 ids, in a buffer the next call reuses. */
export function populate(bs: Backend[], m: u32): usize {
  const n = bs.length;
  if (<u32>table.length < m) table = new Uint32Array(m);
  if (scratchA.length < n) { scratchA = new Uint64Array(n); scratchB = new Uint32Array(n); }
  if (n <= RENDEZVOUS_MAX) rendezvous(bs, m, table.dataStart);
  else maglev(bs, m, table.dataStart);
  return table.dataStart;
}

function slotHashesOf(n: i32, m: u32): usize {
  const k = step(n);
  let h = slotHashes[k];
  if (h == null) {
    h = new Uint64Array(m);
    for (let s: u32 = 0; s < m; s++) unchecked(h[s] = fmix64(<u64>s ^ SEED));
    slotHashes[k] = h;
  }
  return h.dataStart;
}

function rendezvous(bs: Backend[], m: u32, t: usize): void {
  const n = bs.length;
  const hashes = slotHashesOf(n, m);
  const key = scratchA.dataStart, used = scratchB.dataStart;
  for (let i = 0; i < n; i++) {
    store<u64>(key + (<usize>i << 3), hashAddr(bs[i].ip, bs[i].port, SEED));
    store<u32>(used + (<usize>i << 2), 0);
  }
  const cap = <u32>((<u64>m * 110 + <u64>n * 100 - 1) / (<u64>n * 100)); // ceil(1.1 m / n)
  for (let s: u32 = 0; s < m; s++) {
    const hs = load<u64>(hashes + (<usize>s << 3));
    let best = 0, top: u64 = 0, found = false;
    for (let i = 0; i < n; i++) {
      if (load<u32>(used + (<usize>i << 2)) >= cap) continue;
      // Keys and hs are already mixed: one multiply spreads their xor into the high bits.
      const w = (load<u64>(key + (<usize>i << 3)) ^ hs) * 0x9e3779b97f4a7c15;
      if (!found || w > top) { best = i; top = w; found = true; }
    }
    const li = used + (<usize>best << 2);
    store<u32>(li, load<u32>(li) + 1);
    store<u32>(t + (<usize>s << 2), bs[best].id);
  }
}

function maglev(bs: Backend[], m: u32, t: usize): void {
  const n = bs.length;
  const cur = scratchB.dataStart, skip = scratchA.dataStart;
  memory.fill(t, 0, <usize>m << 2); // ids are never 0
  for (let i = 0; i < n; i++) {
    const h = hashAddr(bs[i].ip, bs[i].port, SEED);
    store<u32>(cur + (<usize>i << 2), <u32>((h >> 32) % <u64>m));
    store<u64>(skip + (<usize>i << 3), ((h & 0xffffffff) % <u64>(m - 1)) + 1);
  }
  let filled: u32 = 0;
  while (filled < m) {
    for (let i = 0; i < n && filled < m; i++) {
      const ci = cur + (<usize>i << 2);
      const s = <u32>load<u64>(skip + (<usize>i << 3));
      let c = load<u32>(ci);
      while (load<u32>(t + (<usize>c << 2)) != 0) { c += s; if (c >= m) c -= m; }
      store<u32>(t + (<usize>c << 2), bs[i].id);
      c += s; if (c >= m) c -= m;
      store<u32>(ci, c);
      filled++;
    }
  }
}
