// The entries of selection tables in a diff (one a chunk of 64 slots; a small
// set's "table" is its ids, one chunk), made when read instead of kept: a
// table is a function of its backends alone (maglev.ts), and kept tables were
// most of the compiler's memory (5,000 Services of 5 backends, when those had
// 4,099-slot tables: 79 MiB, as much again in the diff that carries them, and
// 4 MiB more for their entries' keys and addresses). Entries are
// numbered in the order their tables came; the diff reads them in key order,
// which keeps each table's chunks together, so a table is built once a pass.
import { SL_MAGLEV_CHUNK } from './abi/layouts';
import { Backend } from './backends';
import { fillTable, tableSize } from './maglev';
import { RawBuf } from './rawbuf';

const CHUNK_BYTES: u32 = <u32>SL_MAGLEV_CHUNK * 4;

// The two tables built last, by their backends (never changed once compiled;
// holding them keeps another list from taking their address). A diff reads at
// most two at once, a value before against one after, and the table a change
// replaces was most often built by the batch before, as its new one: a Service
// whose endpoints churn costs one fill a batch, not two.
class Built {
  backends: StaticArray<Backend> | null = null;
  buf: RawBuf = new RawBuf();
}
const built: StaticArray<Built> = [new Built(), new Built()];
let newer: i32 = 0; // the slot read last

/** Address of the table of these backends, valid until two others are read. */
function tableOf(bs: StaticArray<Backend>): usize {
  for (let s = 0; s < 2; s++) {
    const b = unchecked(built[s]);
    if (b.backends === bs) {
      newer = s;
      return b.buf.ptr;
    }
  }
  newer ^= 1;
  const b = unchecked(built[newer]);
  b.backends = bs;
  fillTable(bs, b.buf.ensure(<usize>chunks(bs.length) * CHUNK_BYTES), SL_MAGLEV_CHUNK);
  return b.buf.ptr;
}

export class Tables {
  // Each table's backends, key (top | chunk index) and first entry.
  private sets: StaticArray<Backend>[] = [];
  private tops: u64[] = [];
  private firsts: u32[] = [];
  private n: u32 = 0; // entries so far
  private at: i32 = -1; // the table keyAt read last
  private read: i32 = -1; // the table chunk read last

  /** Adds the table of these backends, its chunks keyed top | index; returns how many. */
  add(top: u64, backends: StaticArray<Backend>): u32 {
    const k = chunks(backends.length);
    if (k == 0) return 0;
    this.sets.push(backends);
    this.tops.push(top);
    this.firsts.push(this.n);
    this.n += k;
    return k;
  }

  /** Key of entry i. */
  keyAt(i: u32): u64 {
    let t = this.at;
    if (!this.holds(t, i)) this.at = t = this.find(i);
    return unchecked(this.tops[t]) | <u64>(i - unchecked(this.firsts[t]));
  }

  /** Address of entry i's value: valid until chunks of two other tables are read. */
  chunk(i: u32): usize {
    let t = this.read;
    if (!this.holds(t, i)) this.read = t = this.find(i);
    return tableOf(unchecked(this.sets[t])) + <usize>(i - unchecked(this.firsts[t])) * CHUNK_BYTES;
  }

  clear(): void {
    this.sets.length = 0;
    this.tops.length = 0;
    this.firsts.length = 0;
    this.n = 0;
    this.at = -1;
    this.read = -1;
  }

  /** Whether table t (-1: none) has entry i. */
  @inline private holds(t: i32, i: u32): bool {
    if (t < 0) return false;
    const first = unchecked(this.firsts[t]);
    return i >= first && (t + 1 == this.firsts.length || i < unchecked(this.firsts[t + 1]));
  }

  /** The table with entry i: the last whose first is at most i. */
  private find(i: u32): i32 {
    let lo = 0, hi = this.firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (unchecked(this.firsts[mid]) <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** sl_maglev entries of the table of n backends. */
export function chunks(n: i32): u32 {
  return (tableSize(n) + <u32>SL_MAGLEV_CHUNK - 1) / <u32>SL_MAGLEV_CHUNK;
}
