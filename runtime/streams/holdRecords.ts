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
  private w: Writer;

  constructor(keep: (r: Upsert) => boolean, chunkBytes = CHUNK) {
    this.keep = keep;
    this.chunkBytes = chunkBytes;
    this.w = new Writer(chunkBytes);
  }

  /** r itself when it is a delete, kept, or one the ABI cannot hold (the batch refuses it, naming it); else its bytes. */
  hold(r: Record): Held {
    if (r.op !== 'upsert' || this.keep(r)) return r;
    if (this.w.length >= this.chunkBytes) this.w = new Writer(this.chunkBytes);
    const at = this.w.length;
    try {
      writeRecord(this.w, r);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      this.w.length = at;
      return r;
    }
    return { kind: r.kind, namespace: r.namespace, name: r.name, op: 'encoded', chunk: this.w.written, at, length: this.w.length - at };
  }
}
