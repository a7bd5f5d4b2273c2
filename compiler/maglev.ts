// Backend selection, as the datapath reads it from sl_maglev (lib/lb.h).
// A set of at most SL_RENDEZVOUS_MAX backends has no table: its ids, and
// each new flow picks the one whose hash with the flow's is highest
// (rendezvous hashing), so a removal moves only the removed backend's flows
// and every backend's share is fair. That costs the datapath a hash a
// backend per new flow, so larger sets have tables, Maglev-style (Eisenbud
// et al., NSDI 2016): a prime number of slots, each naming a backend; the
// datapath picks slot flow_hash % slots. The tables come from a fixed ladder
// of sizes, so memory follows a service's backend count and a table is
// remapped only when its size changes. Within a step, removing a backend
// must move only its own flows plus at most 1% of the rest, measured by
// property-tests/compiler/maglev.prop.ts. Two fills meet that:
//  - up to RENDEZVOUS_FILL_MAX backends, bounded-load rendezvous hashing:
//    slot by slot, the backend with the highest hash(backend, slot) among
//    those under 1.1 x their fair share. Besides the removed backend's slots,
//    what moves is the overflow of the backends the cap held back, which they
//    take back as the cap rises. It weighs most where backends are few, each
//    owning much of the table (at 100-200 slots per backend, 2-6% of removals
//    among 4 to 8 backends moved over 1%), which is why small sets have no
//    table. No backend gets more than 1.1 x its share (the least loaded may
//    get ~0.7 x: the price of the low disruption). It costs slots x backends.
//  - above, Maglev's permutation fill, which costs slots x log(slots), on
//    tables of at least 800 slots per backend, where its extra moves stay
//    under 1%.
import { SL_MAGLEV_MIN, SL_RENDEZVOUS_MAX } from './abi/layouts';
import { Backend } from './backends';
import { fmix64, hashAddr } from './hash';

const SEED: u64 = 0x4d41474c4556;
const RENDEZVOUS_FILL_MAX: i32 = 128;
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

/** svc_val.slots for n backends: 0 for none, n for a set without a table. */
export function tableSize(n: i32): u32 {
  if (n <= SL_RENDEZVOUS_MAX) return max(n, 0);
  const k = step(n);
  if (k > MAX_STEP) throw new Error('too many backends for one table');
  if (ladder[k] == 0) {
    let p = n > RENDEZVOUS_FILL_MAX ? MAGLEV_RATIO << k : <u32>SL_MAGLEV_MIN << k;
    while (!isPrime(p)) p++;
    ladder[k] = p;
  }
  return ladder[k];
}

// hash(slot) for each slot of each ladder size: the same for every table of that size.
const slotHashes = new StaticArray<Uint64Array | null>(MAX_STEP + 1);
let scratchA = new Uint64Array(0);
let scratchB = new Uint32Array(0);
let scratchC = new Uint32Array(0);

/** Writes the selection of these backends at t: tableSize slots of backend
 * ids (a small set's own ids, in order), then zeros up to a whole number of
 * chunks of the given size. */
export function fillTable(bs: StaticArray<Backend>, t: usize, chunk: u32): void {
  const n = bs.length;
  const m = tableSize(n);
  memory.fill(t + (<usize>m << 2), 0, <usize>((m + chunk - 1) / chunk * chunk - m) << 2);
  if (n <= SL_RENDEZVOUS_MAX) {
    for (let i = 0; i < n; i++) store<u32>(t + (<usize>i << 2), unchecked(bs[i]).id);
    return;
  }
  if (scratchA.length < n) { scratchA = new Uint64Array(n); scratchB = new Uint32Array(n); scratchC = new Uint32Array(n); }
  if (n <= RENDEZVOUS_FILL_MAX) rendezvous(bs, m, t);
  else maglev(bs, m, t);
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

/** A backend's weight for a slot: keys and hs are already mixed, so one
 * multiply spreads their xor into the high bits. */
@inline function weight(key: usize, hs: u64): u64 {
  return (load<u64>(key) ^ hs) * 0x9e3779b97f4a7c15;
}

function rendezvous(bs: StaticArray<Backend>, m: u32, t: usize): void {
  const n = bs.length;
  const hashes = slotHashesOf(n, m);
  // The backends still under the cap, in index order: key, id and slots taken.
  // A full one leaves the list, so the inner loop has no test but the
  // comparison; the order keeps the tie-break (the first highest wins).
  const key = scratchA.dataStart, id = scratchB.dataStart, used = scratchC.dataStart;
  for (let i = 0; i < n; i++) {
    store<u64>(key + (<usize>i << 3), hashAddr(bs[i].ip, bs[i].port, SEED));
    store<u32>(id + (<usize>i << 2), bs[i].id);
    store<u32>(used + (<usize>i << 2), 0);
  }
  const cap = <u32>((<u64>m * 110 + <u64>n * 100 - 1) / (<u64>n * 100)); // ceil(1.1 m / n)
  let live = <usize>n; // never 0: n x cap > m
  for (let s: u32 = 0; s < m; s++) {
    const hs = load<u64>(hashes + (<usize>s << 3));
    let best: usize = 0, top = weight(key, hs);
    // Selects, not branches: which backend wins a slot is random, so a branch
    // mispredicts. Backends go in pairs, the pair's winner against the best so
    // far: two short dependency chains instead of one long one. A tie goes to
    // the lower index at each step, as in a plain scan.
    let i: usize = 1;
    for (; i + 1 < live; i += 2) {
      const w0 = weight(key + (i << 3), hs), w1 = weight(key + (i << 3) + 8, hs);
      const second = w1 > w0;
      const w = select(w1, w0, second);
      const wins = w > top;
      best = select(select(i + 1, i, second), best, wins);
      top = select(w, top, wins);
    }
    if (i < live) {
      const w = weight(key + (i << 3), hs);
      const wins = w > top;
      best = select(i, best, wins);
      top = select(w, top, wins);
    }
    store<u32>(t + (<usize>s << 2), load<u32>(id + (best << 2)));
    const u = load<u32>(used + (best << 2)) + 1;
    store<u32>(used + (best << 2), u);
    if (u < cap) continue;
    live--;
    const rest = live - best;
    memory.copy(key + (best << 3), key + ((best + 1) << 3), rest << 3);
    memory.copy(id + (best << 2), id + ((best + 1) << 2), rest << 2);
    memory.copy(used + (best << 2), used + ((best + 1) << 2), rest << 2);
  }
}

// One bit per slot, set once the slot is taken: the fill probes this, not the
// table. At 800 slots per backend a table outgrows the caches (52 MB at 10,000
// backends) while its bitmap (1.6 MB) stays in them, and the probes, random by
// design and about ln(slots) per slot, were nearly all cache misses.
let taken = new StaticArray<u32>(0);

function maglev(bs: StaticArray<Backend>, m: u32, t: usize): void {
  const n = bs.length;
  const cur = scratchB.dataStart, skip = scratchA.dataStart, id = scratchC.dataStart;
  for (let i = 0; i < n; i++) {
    const h = hashAddr(bs[i].ip, bs[i].port, SEED);
    store<u32>(id + (<usize>i << 2), bs[i].id);
    store<u32>(cur + (<usize>i << 2), <u32>((h >> 32) % <u64>m));
    store<u64>(skip + (<usize>i << 3), ((h & 0xffffffff) % <u64>(m - 1)) + 1);
  }
  const words = <i32>((m + 31) >> 5);
  if (taken.length < words) taken = new StaticArray<u32>(words);
  const bits = changetype<usize>(taken);
  memory.fill(bits, 0, <usize>words << 2);
  let filled: u32 = 0;
  while (filled < m) {
    for (let i = 0; i < n && filled < m; i++) {
      const ci = cur + (<usize>i << 2);
      const s = <u32>load<u64>(skip + (<usize>i << 3));
      let c = load<u32>(ci);
      while (load<u32>(bits + (<usize>(c >> 5) << 2)) & (1 << (c & 31))) { c += s; if (c >= m) c -= m; }
      const w = bits + (<usize>(c >> 5) << 2);
      store<u32>(w, load<u32>(w) | (1 << (c & 31)));
      store<u32>(t + (<usize>c << 2), load<u32>(id + (<usize>i << 2)));
      c += s; if (c >= m) c -= m;
      store<u32>(ci, c);
      filled++;
    }
  }
}
