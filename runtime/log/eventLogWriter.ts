// Records what the agent compiled, so `sluice replay` can run it again.
//
// Format (version 1). A log is a directory of append-only files
// events-000000.log, events-000001.log, ... Each line is one record:
//
//   crc32 of the JSON, 8 lowercase hex digits · one space · JSON · "\n"
//
// and the JSON is one of (types in format.ts):
//   {"type":"header","format":"sluice-event-log","version":1,"node":"node-a","file":0,"start":"empty"}
//       always the first line; start "empty" when a writer (an agent process)
//       began the file, "snapshot" when rotation did.
//   {"type":"upsert","object":{...}} {"type":"delete","object":{...}} {"type":"synced"}
//       a KubeEvent as the source produced it: the raw object with apiVersion
//       and kind, so replay runs the normalizer too. Recording drops
//       metadata.managedFields (the normalizer never reads it, and it is often
//       most of an object) and keeps only apiVersion, kind and metadata of a
//       delete.
//   {"type":"batch","batch":3,"events":2,"ops":5,"sha256":"...","maps":{"sl_be":[1,1,"89ab..."]},"at":"..."}
//       ends batch 3, whose events are the event lines since the previous
//       boundary: the sha256 of the diff bytes the compiler produced for it,
//       its op count, and per map the upserts, deletes and a 16-digit digest.
//   {"type":"snapshot","batch":3,"events":40,...}
//       as "batch", in a rotated file only: the 40 upserts before it are every
//       live object of the kinds sluice reads, by (kind, namespace, name),
//       and the digest is of the whole image (Compiler.rebuild) after batch 3.
//       Any one file thus replays alone.
//
// A file is rotated at a boundary once maxBytes follow its snapshot (so a
// state bigger than maxBytes does not rotate at every batch). A crash can tear
// the last line: it then lacks its newline or its CRC does not match, and
// readers skip it with a warning. Events are buffered and written together
// with their batch's boundary, in one write, so a file holds no events of a
// batch that was never compiled (unless that write itself was torn).
import { closeSync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { compareRefs, keyOf, type ObjectKey } from '../encode/objectKey.ts';
import type { MapDiff } from '../maps/mapDiff.ts';
import type { KubeEvent, KubeObject } from '../sources/events.ts';
import { digestOf } from './digest.ts';
import { frame, LOG_FILE, LOG_FORMAT, LOG_VERSION, logFileName, type LogHeader } from './format.ts';

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
}

export class EventLogWriter {
  /** Every file this writer has started, in order. */
  readonly files: string[] = [];
  private readonly live = new Map<string, { key: ObjectKey; line: string }>(); // objects as of the last boundary and since
  private pending: string[] = []; // framed lines not yet written
  private pendingEvents = 0;
  private fd = -1;
  private bytes = 0; // in the current file after its snapshot
  private next: number; // index of the next file
  private readonly dir: string;
  private readonly opts: EventLogOptions;
  private readonly maxBytes: number;
  private readonly now: () => number;

  /** Opens a new file in dir (created if missing), numbered after any already there. */
  constructor(dir: string, opts: EventLogOptions) {
    this.dir = dir;
    this.opts = opts;
    mkdirSync(dir, { recursive: true });
    const taken = readdirSync(dir).map((f) => LOG_FILE.exec(f)?.[1]).filter((n) => n !== undefined).map(Number);
    this.next = taken.length ? Math.max(...taken) + 1 : 0;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    this.now = opts.now ?? Date.now;
    this.open('empty');
  }

  /** Records an event of the batch in progress; written with that batch's boundary. */
  event(e: KubeEvent): void {
    const recorded = e.type === 'synced' ? e : { type: e.type, object: trimmed(e) };
    const line = frame(recorded);
    this.pending.push(line);
    this.pendingEvents++;
    if (e.type === 'synced') return;
    const key = keyOf(e.object);
    if (!key) return; // another kind, or nameless: nothing replay keeps
    if (e.type === 'upsert') this.live.set(key.key, { key, line });
    else this.live.delete(key.key);
  }

  /** Ends batch n, whose diff the compiler produced from the events since the
   * last boundary, and writes it all. Call it after applying the diff: a
   * rotation calls image(), which reuses the compiler's output buffer. */
  batch(n: number, diff: MapDiff): void {
    this.pending.push(frame({ type: 'batch', batch: n, events: this.pendingEvents, ...digestOf(diff), at: new Date(this.now()).toISOString() }));
    this.flush();
    if (this.bytes >= this.maxBytes) this.rotate(n);
  }

  /** Closes the current file. Events after the last boundary never reached the maps and are dropped. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    this.pending = [];
    this.pendingEvents = 0;
  }

  private rotate(n: number): void {
    closeSync(this.fd);
    this.open('snapshot');
    const objects = [...this.live.values()].sort((a, b) => compareRefs(a.key.ref, b.key.ref));
    this.pending.push(...objects.map((o) => o.line));
    this.pending.push(frame({ type: 'snapshot', batch: n, events: objects.length, ...digestOf(this.opts.image()), at: new Date(this.now()).toISOString() }));
    this.flush();
    this.bytes = 0;
  }

  private open(start: LogHeader['start']): void {
    const path = join(this.dir, logFileName(this.next));
    this.fd = openSync(path, 'wx'); // never append to a file another writer may hold
    this.files.push(path);
    this.bytes = 0;
    this.write(frame({ type: 'header', format: LOG_FORMAT, version: LOG_VERSION, node: this.opts.node, file: this.next++, start }));
  }

  private flush(): void {
    this.write(this.pending.join(''));
    this.pending = [];
    this.pendingEvents = 0;
  }

  private write(text: string): void {
    const buf = Buffer.from(text);
    try {
      for (let at = 0; at < buf.length;) at += writeSync(this.fd, buf, at);
    } catch (e) {
      throw new Error(`record to ${this.files.at(-1)}: ${(e as Error).message}`, { cause: e });
    }
    this.bytes += buf.length;
  }
}

/** The object as recorded: without managedFields; a delete keeps only its header. */
function trimmed(e: Exclude<KubeEvent, { type: 'synced' }>): KubeObject {
  const { managedFields: _, ...metadata } = e.object.metadata ?? {};
  return e.type === 'delete' ? { apiVersion: e.object.apiVersion, kind: e.object.kind, metadata } : { ...e.object, metadata };
}
