// Records what the agent compiled, so `sluice replay` can run it again.
//
// Format (version 2). A log is a directory (0700) of append-only files (0600)
// events-000000.log, events-000001.log, ..., written by one agent at a time
// (it holds DIR/lock: dirLock.ts). Each line is one record:
//
//   crc32 of the JSON, 8 lowercase hex digits · one space · JSON · "\n"
//
// and the JSON is one of (types in format.ts):
//   {"type":"header","format":"sluice-event-log","version":2,"node":"node-a","file":0,"start":"empty"}
//       always the first line; file is the N of its name; start "empty" when
//       a writer (an agent process) began the file, "snapshot" when rotation
//       did, and then "prev" carries the previous file's last chain.
//   {"type":"upsert","object":{...}} {"type":"delete","object":{...}} {"type":"synced"}
//       a KubeEvent as the source produced it, its object cut to the fields
//       the normalizer reads (encode/recordedFields.ts): replay runs the
//       normalizer on them and gets what the agent got; env values,
//       annotations and the rest of a Pod never reach the disk.
//   {"type":"batch","batch":3,"events":2,"ops":5,"sha256":"...","maps":{"sl_be":[1,1,"89ab..."]},"at":"...","chain":"...","mac":"..."}
//       ends batch 3, whose events are the event lines since the previous
//       boundary: the sha256 of the diff bytes the compiler produced for it,
//       its op count, and per map the upserts, deletes and a 16-digit digest.
//   {"type":"snapshot","batch":3,"events":40,...}
//       as "batch", in a rotated file only: the 40 upserts before it are every
//       live object of the kinds sluice reads, by (kind, namespace, name),
//       and the digest is of the whole image (Compiler.rebuild) after batch 3.
//       Any one file thus replays alone.
//   {"type":"end","batch":7,"chain":"...","mac":"..."}
//       the writer stopped cleanly after batch 7; a log without it ends in a
//       crash, a lost write, or a writer still at work.
// Every boundary and the end carry "chain", the file's digest chain through
// them, and with a key (--record-key) "mac", its HMAC (chain.ts).
//
// A file is rotated at a boundary once maxBytes follow its snapshot (so a
// state bigger than maxBytes does not rotate at every batch). A crash can tear
// the last line: it then lacks its newline or its CRC does not match. Events
// are buffered and written together with their batch's boundary, in one
// write, so a file holds no events of a batch that was never compiled (unless
// that write itself was torn). A write that fails (a full disk) throws, and
// the writer is closed: the agent stops recording and goes on (recorder.ts).
import { closeSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { compareRefs, keyOf, type ObjectKey } from '../encode/objectKey.ts';
import { recordedObject } from '../encode/recordedFields.ts';
import type { MapDiff } from '../maps/mapDiff.ts';
import type { KubeEvent, KubeObject } from '../sources/events.ts';
import { Chain, macOf } from './chain.ts';
import { digestOf } from './digest.ts';
import { lockDir } from './dirLock.ts';
import { frameJson, LOG_FILE, LOG_FORMAT, LOG_VERSION, logFileName, type BatchBoundary, type EndRecord, type LogHeader, type SnapshotBoundary } from './format.ts';

export const DEFAULT_MAX_BYTES = 64 * 2 ** 20;

export interface EventLogOptions {
  /** The node the agent compiles for; recorded in each file's header. */
  node: string;
  /** Start a new file once this many bytes follow the current one's snapshot (default 64 MiB). */
  maxBytes?: number;
  /** The whole current image, for a rotated file's snapshot: () => compiler.rebuild(). */
  image: () => MapDiff;
  /** Milliseconds since the epoch, stamped on each boundary (default Date.now). */
  now?: () => number;
  /** Sign each boundary's chain with this key (HMAC-SHA256). */
  key?: Uint8Array;
}

type Unsealed<B> = Omit<B, 'chain' | 'mac'>;

export class EventLogWriter {
  /** Every file this writer has started, in order. */
  readonly files: string[] = [];
  private readonly live = new Map<string, { key: ObjectKey; json: string }>(); // objects as of the last boundary and since
  private pending: string[] = []; // events' JSON not yet written
  private fd = -1;
  private closed = false;
  private chain = new Chain(); // of the current file
  private lastChain: string | undefined; // of the current file's last boundary
  private lastBatch = 0;
  private bytes = 0; // in the current file after its snapshot
  private next: number; // index of the next file
  private readonly unlock: () => void;
  private readonly dir: string;
  private readonly opts: EventLogOptions;
  private readonly maxBytes: number;
  private readonly now: () => number;

  /** Opens a new file in dir (created 0700 if missing), numbered after any already there; throws when another writer holds dir. */
  constructor(dir: string, opts: EventLogOptions) {
    this.dir = dir;
    this.opts = opts;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.unlock = lockDir(dir);
    try {
      const taken = readdirSync(dir).map((f) => LOG_FILE.exec(f)?.[1]).filter((n) => n !== undefined).map(Number);
      this.next = taken.length ? Math.max(...taken) + 1 : 0;
      this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
      this.now = opts.now ?? Date.now;
      this.open('empty');
    } catch (e) {
      this.unlock();
      throw e;
    }
  }

  /** Records an event of the batch in progress; written with that batch's boundary. */
  event(e: KubeEvent): void {
    const json = JSON.stringify(e.type === 'synced' ? e : { type: e.type, object: recordedObject(e.type, e.object) as KubeObject });
    this.pending.push(json);
    if (e.type === 'synced') return;
    const key = keyOf(e.object);
    if (!key) return; // another kind, or nameless: nothing replay keeps
    if (e.type === 'upsert') this.live.set(key.key, { key, json });
    else this.live.delete(key.key);
  }

  /** Ends batch n, whose diff the compiler produced from the events since the
   * last boundary, and writes it all. Call it after applying the diff: a
   * rotation calls image(), which reuses the compiler's output buffer. */
  batch(n: number, diff: MapDiff): void {
    this.writeBatch(this.pending, { type: 'batch', batch: n, events: this.pending.length, ...digestOf(diff), at: this.at() });
    this.lastBatch = n;
    if (this.bytes >= this.maxBytes) this.rotate(n);
  }

  /** Writes the end record and closes the file. Events after the last boundary never reached the maps and are dropped. */
  close(): void {
    try {
      if (this.fd >= 0) this.write(this.sealed({ type: 'end', batch: this.lastBatch }));
    } finally {
      this.shut();
    }
  }

  /** Closes the file without an end record (after a failed write: the log ends there, incomplete). */
  abandon(): void {
    this.shut();
  }

  private shut(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.pending = [];
    this.unlock();
  }

  private rotate(n: number): void {
    closeSync(this.fd);
    this.fd = -1; // closed: a failing open below must not leave it to be closed twice
    this.open('snapshot');
    const objects = [...this.live.values()].sort((a, b) => compareRefs(a.key.ref, b.key.ref)).map((o) => o.json);
    this.writeBatch(objects, { type: 'snapshot', batch: n, events: objects.length, ...digestOf(this.opts.image()), at: this.at() });
    this.bytes = 0;
  }

  private open(start: LogHeader['start']): void {
    const path = join(this.dir, logFileName(this.next));
    this.fd = openSync(path, 'wx', 0o600); // never append to a file another writer may have made
    this.files.push(path);
    this.chain = new Chain();
    const header: LogHeader = { type: 'header', format: LOG_FORMAT, version: LOG_VERSION, node: this.opts.node, file: this.next++, start };
    if (start === 'snapshot') header.prev = this.lastChain;
    const json = JSON.stringify(header);
    this.chain.add(json);
    this.write(frameJson(json));
  }

  /** Events and their boundary, in one write. */
  private writeBatch(events: string[], boundary: Unsealed<BatchBoundary> | Unsealed<SnapshotBoundary>): void {
    for (const json of events) this.chain.add(json);
    const text = events.map(frameJson).join('') + this.sealed(boundary);
    this.pending = [];
    this.write(text);
  }

  /** A boundary's framed line: hashed into the chain without its seal, then sealed. */
  private sealed(b: Unsealed<BatchBoundary> | Unsealed<SnapshotBoundary> | Unsealed<EndRecord>): string {
    this.chain.add(JSON.stringify(b));
    const chain = this.chain.digest();
    this.lastChain = chain;
    return frameJson(JSON.stringify({ ...b, chain, ...(this.opts.key ? { mac: macOf(this.opts.key, chain) } : {}) }));
  }

  private at(): string {
    return new Date(this.now()).toISOString();
  }

  private write(text: string): void {
    const buf = Buffer.from(text);
    try {
      for (let at = 0; at < buf.length;) at += writeSync(this.fd, buf, at);
    } catch (e) {
      throw new Error(`record to ${this.files.at(-1)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
    }
    this.bytes += buf.length;
  }
}
