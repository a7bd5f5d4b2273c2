// The selection tables a diff's sl_maglev values come from, made when they are
// read instead of kept: a table is a function of its backends alone
// (maglev.ts), and kept tables were most of the compiler's memory (5,000
// Services of 5 backends: 79 MiB, as much again in the diff that carries
// them). The diff reads values in key order, which keeps each table's chunks
// together, so one table is built at a time, into one reused buffer.
import { SL_MAGLEV_CHUNK } from './abi/layouts';
import { Backend } from './backends';
import { fillTable, tableSize } from './maglev';
import { RawBuf } from './rawbuf';

const CHUNK_BYTES: u32 = <u32>SL_MAGLEV_CHUNK * 4;

export class Tables {
  // Each table's backends and the ref of its first chunk; a chunk's ref is
  // its table's first plus its index, so refs ascend in the order tables came.
  private sets: StaticArray<Backend>[] = [];
  private firsts: u32[] = [];
  private refs: u32 = 0;
  private built: i32 = -1; // the table buf holds
  private buf: RawBuf = new RawBuf();

  /** Adds the table of these backends; returns the ref of its first chunk. */
  add(backends: StaticArray<Backend>): u32 {
    const first = this.refs;
    this.sets.push(backends);
    this.firsts.push(first);
    this.refs += chunks(backends.length);
    return first;
  }

  /** Address of the chunk with this ref: valid until a chunk of another table is read. */
  chunk(ref: u32): usize {
    let t = this.built;
    if (t < 0 || ref < unchecked(this.firsts[t]) || ref - unchecked(this.firsts[t]) >= chunks(unchecked(this.sets[t]).length)) {
      t = this.find(ref);
      const bs = unchecked(this.sets[t]);
      fillTable(bs, this.buf.ensure(<usize>chunks(bs.length) * CHUNK_BYTES), SL_MAGLEV_CHUNK);
      this.built = t;
    }
    return this.buf.ptr + <usize>(ref - unchecked(this.firsts[t])) * CHUNK_BYTES;
  }

  clear(): void {
    this.sets.length = 0;
    this.firsts.length = 0;
    this.refs = 0;
    this.built = -1;
  }

  /** The table whose chunks hold ref: the last whose first is at most ref. */
  private find(ref: u32): i32 {
    let lo = 0, hi = this.firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (unchecked(this.firsts[mid]) <= ref) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** sl_maglev entries of the table of n backends. */
export function chunks(n: i32): u32 {
  return (tableSize(n) + <u32>SL_MAGLEV_CHUNK - 1) / <u32>SL_MAGLEV_CHUNK;
}
