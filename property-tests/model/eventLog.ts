// An event log reader of the tests' own, written from the format's
// description (the header of runtime/log/eventLogWriter.ts, the README's
// "Replaying a recorded log") and not from runtime/log, so that a log is
// checked by something other than the code that wrote it:
//   crc32 of the JSON (8 lowercase hex digits) · " " · JSON · "\n", per line;
//   a header first; then events, each batch ended by a boundary that counts
//   its events and, per map it touched, its upserts, deletes and the first 16
//   hex digits of the sha256 of its upsert keys, upsert values, delete keys
//   (keys sorted by their bytes, values in their keys' order); last, when the
//   writer stopped cleanly, an end record naming the last batch.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import * as assert from 'uvu/assert';
import { compileObjects } from '../../runtime/cli/compile.ts';
import { MAPS } from '../../runtime/abi/layouts.generated.ts';
import type { Json } from './kube.ts';

export interface LoggedBatch {
  batch: number;
  at: string | undefined;
  events: Json[];
  /** As the boundary says: per map [upserts, deletes, digest], and the op count. */
  maps: { [map: string]: [number, number, string] };
  ops: number;
  /** Every live object after the batch, by "kind/namespace/name". */
  state: Map<string, Json>;
}

/** Reads one log file; fails (uvu assertions) on any line that is not as the format says. */
export function readEventLog(path: string): { header: Json; batches: LoggedBatch[]; ended: boolean } {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), `${path}: the last record ends with a newline`);
  const records = text.slice(0, -1).split('\n').map((line, i) => {
    const m = /^([0-9a-f]{8}) (.*)$/.exec(line);
    assert.ok(m, `${path}:${i + 1}: crc32, a space, JSON`);
    assert.is(Number.parseInt(m[1], 16), crc32(Buffer.from(m[2], 'utf8')), `${path}:${i + 1}: crc32`);
    return JSON.parse(m[2]) as Json;
  });
  const [header, ...rest] = records;
  assert.is(header.type, 'header', 'a header first');
  const batches: LoggedBatch[] = [];
  const state = new Map<string, Json>();
  let events: Json[] = [];
  let ended = false;
  for (const r of rest) {
    assert.not.ok(ended, 'nothing after the end record');
    if (r.type === 'end') {
      assert.is(r.batch, batches.at(-1)?.batch, 'the end names the last batch');
      assert.equal(events, [], 'no event after the last boundary');
      ended = true;
      continue;
    }
    if (r.type === 'upsert' || r.type === 'delete' || r.type === 'synced') {
      events.push(r);
      if (r.type === 'synced') continue;
      const o = r.object as Json, meta = o.metadata as Json;
      const key = `${o.kind}/${meta.namespace ?? ''}/${meta.name}`;
      if (r.type === 'upsert') state.set(key, o);
      else state.delete(key);
    } else {
      assert.is(r.type, 'batch', `a record is an event, a boundary or the end, not ${r.type}`);
      assert.is(r.events, events.length, `batch ${r.batch}: the events since the last boundary`);
      batches.push({ batch: r.batch as number, at: r.at as string | undefined, events, maps: r.maps as LoggedBatch['maps'], ops: r.ops as number, state: new Map(state) });
      events = [];
    }
  }
  return { header, batches, ended };
}

export interface MapChange { added: number; changed: number; deleted: number; digest: string }

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Per map, what turns the maps a fresh compile gives for `before` into those it gives for `after`. */
export function freshDifference(before: Json[], after: Json[], node: string): { [map: string]: MapChange } {
  const image = (objects: Json[]) => compileObjects(objects, node)[0].store;
  const a = image(before), b = image(after);
  const out: { [map: string]: MapChange } = {};
  for (const { name } of MAPS) {
    const was = new Map(a.entries(name).map(([k, v]) => [hex(k), hex(v)]));
    const now = new Map(b.entries(name).map(([k, v]) => [hex(k), hex(v)]));
    const upserts = [...now].filter(([k, v]) => was.get(k) !== v).sort(([x], [y]) => (x < y ? -1 : 1));
    const deletes = [...was.keys()].filter((k) => !now.has(k)).sort();
    if (upserts.length + deletes.length === 0) continue;
    const h = createHash('sha256');
    for (const [k] of upserts) h.update(Buffer.from(k, 'hex'));
    for (const [, v] of upserts) h.update(Buffer.from(v, 'hex'));
    for (const k of deletes) h.update(Buffer.from(k, 'hex'));
    out[name] = {
      added: upserts.filter(([k]) => !was.has(k)).length, changed: upserts.filter(([k]) => was.has(k)).length,
      deleted: deletes.length, digest: h.digest('hex').slice(0, 16),
    };
  }
  return out;
}
