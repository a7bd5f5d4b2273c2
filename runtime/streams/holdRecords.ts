// How a record waits for its batch: as its ABI bytes, written when it comes.
// At a full sync some 20,000 records wait for 'synced'. As objects they
// survived every young collection of the list, each copied twice and then
// marked: the collector cost more than normalizing them. As bytes in a few
// chunks they give it nothing to trace, and the batch is their bytes copied
// in key order. Records a consumer of the batch reads (keep) stay objects.
import { Writer } from '../encode/codec.ts';
import { writeRecord, type Held, type Record, type Upsert } from '../encode/schema.ts';

/** Bytes of records a chunk takes before the next starts: a chunk is freed once no waiting record is in it. */
const CHUNK = 1 << 18;

export class RecordChunks {
  private readonly keep: (r: Upsert) => boolean;
  private readonly chunkBytes: number;
  /** Each record is written here first: a chunk is never grown, which would leave its earlier records a copy of their own. */
  private readonly scratch = new Writer();
  private chunk = new Uint8Array(0);
  private used = 0;

  constructor(keep: (r: Upsert) => boolean, chunkBytes = CHUNK) {
    this.keep = keep;
    this.chunkBytes = chunkBytes;
  }

  /** r itself when it is a delete, kept, or one the ABI cannot hold (the batch refuses it, naming it); else its bytes. */
  hold(r: Record): Held {
    if (r.op !== 'upsert' || this.keep(r)) return r;
    this.scratch.length = 0;
    try {
      writeRecord(this.scratch, r);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      return r;
    }
    const length = this.scratch.length;
    if (this.used + length > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(this.chunkBytes, length));
      this.used = 0;
    }
    const at = this.used;
    this.chunk.set(this.scratch.written.subarray(0, length), at);
    this.used += length;
    return { kind: r.kind, namespace: r.namespace, name: r.name, op: 'encoded', chunk: this.chunk, at, length };
  }
}
