// The event log: what goes in comes out, damage costs only the damaged
// record, and every rotated file replays alone to the maps the live run had.
// (Needs build/compiler.*.wasm: `npm run build`.)
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeRecords } from '../../runtime/encode/schema.ts';
import { EventLogWriter } from '../../runtime/log/eventLogWriter.ts';
import { frame, type LogItem } from '../../runtime/log/format.ts';
import { LogError, logFiles, readLog } from '../../runtime/log/readLog.ts';
import { Replay, type ReplayStep } from '../../runtime/log/replay.ts';
import { changesOf } from '../../runtime/log/replayState.ts';
import { MemoryStore } from '../../runtime/maps/store.ts';
import type { KubeEvent } from '../../runtime/sources/events.ts';
import { renderMaps } from '../../runtime/view/render.ts';
import { Compiler } from '../../runtime/wasm/host.ts';
import { record } from '../../tools/record-example.ts';

const EXAMPLE = new URL('../../examples/recorded.log', import.meta.url).pathname;
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `sluice-log-${name}-`));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const strip = (items: LogItem[]) => items.map(({ where: _, ...rest }) => rest);
const warnings = (items: readonly (LogItem | ReplayStep)[]) => items.flatMap((i) => (i.type === 'warning' ? [i.message] : []));
const batchesOf = (steps: readonly ReplayStep[]) => steps.flatMap((s) => (s.type === 'batch' ? [`${s.boundary.type} ${s.boundary.batch} ${s.verified}`] : []));

/** Replays files to the end; the steps and the final maps. */
function replay(files: string[]): { steps: ReplayStep[]; maps: string } {
  const r = new Replay({ verify: true });
  const steps = [...readLog(files)].flatMap((i) => r.push(i));
  steps.push(...r.end());
  return { steps, maps: renderMaps('node-a', r.state!.result().store) };
}

const svc = (name: string) => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name, namespace: 'default', resourceVersion: '7', labels: { 'app.kubernetes.io/name': 'ünï\ncode' }, managedFields: [{ manager: 'kubectl' }] },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.50', clusterIPs: ['10.96.0.50'], ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }] },
});
const { managedFields: _, ...recordedMeta } = svc('a').metadata;

test('round trip: events and boundaries in, the same out', () => {
  const dir = tmp('roundtrip');
  const compiler = new Compiler({ node: 'n1' });
  const log = new EventLogWriter(dir, { node: 'n1', image: () => compiler.rebuild(), now: () => Date.UTC(2026, 0, 1) });
  const batches: KubeEvent[][] = [[{ type: 'upsert', object: svc('a') }, { type: 'synced' }], [], [{ type: 'delete', object: svc('a') }]];
  const hashes = batches.map((events, i) => {
    for (const e of events) log.event(e);
    const diff = compiler.batch(encodeRecords(changesOf(events).changes.map((c) => c.record)));
    log.batch(i + 1, diff);
    return `${sha(diff.bytes)} ${diff.sections.map((s) => s.map.name).join(',')}`;
  });
  log.event({ type: 'upsert', object: svc('never-batched') });
  log.close();
  const items = [...readLog(logFiles([dir]))];
  assert.equal(items.map((i) => i.where.replace(dir, '')), ['/events-000000.log:1', ...[2, 3, 4, 5, 6, 7].map((n) => `/events-000000.log:${n}`)]);
  assert.equal(items.map((i) => {
    if (i.type === 'header') return i.header;
    if (i.type === 'batch') return `batch ${i.boundary.batch}: ${i.boundary.events} events, ${i.boundary.sha256} ${Object.keys(i.boundary.maps).join(',')} at ${i.boundary.at}`;
    return i.type === 'event' ? i.event : i.message;
  }), [
    { type: 'header', format: 'sluice-event-log', version: 1, node: 'n1', file: 0, start: 'empty' },
    { type: 'upsert', object: { ...svc('a'), metadata: recordedMeta } }, // managedFields dropped
    { type: 'synced' },
    `batch 1: 2 events, ${hashes[0]} at 2026-01-01T00:00:00.000Z`,
    `batch 2: 0 events, ${hashes[1]} at 2026-01-01T00:00:00.000Z`,
    { type: 'delete', object: { apiVersion: 'v1', kind: 'Service', metadata: recordedMeta } }, // a delete keeps apiVersion, kind, metadata
    `batch 3: 1 events, ${hashes[2]} at 2026-01-01T00:00:00.000Z`,
  ], 'the event after the last boundary is dropped at close');
});

test('examples/recorded.log is what tools/record-example.ts records (rerun it after a compiler change)', () => {
  const files = record(tmp('example'));
  assert.is(files.length, 1);
  assert.ok(readFileSync(files[0]).equals(readFileSync(EXAMPLE)), 'run `node tools/record-example.ts`');
});

test('a writer in a directory that has files starts the next one; replay starts over there', () => {
  const dir = tmp('restart');
  record(dir);
  record(dir);
  const files = logFiles([dir]);
  assert.equal(files.map((f) => f.slice(dir.length)), ['/events-000000.log', '/events-000001.log']);
  const { steps } = replay(files);
  assert.equal(steps.filter((s) => s.type === 'restart').length, 1);
  assert.equal(batchesOf(steps), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5].map((n) => `batch ${n} true`));
  assert.equal(warnings(steps), []);
});

test('a torn last record is skipped with a warning; the rest replays', () => {
  const path = join(tmp('torn'), 'events-000000.log');
  copyFileSync(EXAMPLE, path);
  const whole = readFileSync(path);
  const lastStart = whole.lastIndexOf(0x0a, whole.length - 2) + 1;
  truncateSync(path, lastStart + 40); // mid-way through batch 5's boundary
  const { steps } = replay([path]);
  assert.equal(batchesOf(steps), [1, 2, 3, 4].map((n) => `batch ${n} true`));
  const w = warnings(steps);
  assert.is(w.length, 2, w.join('\n'));
  assert.match(w[0], /^torn record at the end of the file \(no newline/);
  assert.match(w[1], /^2 events without a batch boundary before the log ends: that batch never completed live/);

  // Whole line there, newline and all, but the bytes are not what was checksummed.
  writeFileSync(path, Buffer.concat([whole.subarray(0, lastStart), Buffer.from(whole.subarray(lastStart).toString().replace('"batch":5', '"batch":6'))]));
  assert.match(warnings(replay([path]).steps)[0], /^torn record at the end of the file \(checksum mismatch/);

  writeFileSync(path, whole.subarray(0, 30)); // torn inside the header: nothing to replay, still no error
  assert.equal(strip([...readLog([path])]), [{ type: 'warning', message: 'torn record at the end of the file (no newline; a crash while writing?), skipped' }]);
  writeFileSync(path, '');
  assert.equal(strip([...readLog([path])]), [{ type: 'warning', message: 'empty file (a writer that stopped before its first line)' }]);
});

test('a damaged record inside a file costs that record, and says so', () => {
  const path = join(tmp('damaged'), 'x.log');
  const lines = readFileSync(EXAMPLE, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes('"type":"delete"'));
  lines[at] = lines[at].replace('reports', 'rep0rts');
  writeFileSync(path, lines.join('\n'));
  const items = [...readLog([path])];
  assert.equal(warnings(items), ['checksum mismatch: damaged record skipped', 'batch 4: 2 events recorded, 1 read (a damaged record was skipped)']);
  assert.is(items.filter((i) => i.type === 'event').length, 49, 'the other 49 of 50 events are read');
});

test('files that are not a sluice event log, or of another version, are errors', () => {
  const dir = tmp('bad');
  const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  const cases: [string, RegExp][] = [
    [write('yaml.log', 'apiVersion: v1\nkind: List\n'), /is not a sluice event log \(line 1: not a framed record\)/],
    [write('nohead.log', frame({ type: 'synced' }) + frame({ type: 'synced' })), /is not a sluice event log \(no header\)/],
    [write('v2.log', frame({ type: 'header', format: 'sluice-event-log', version: 2, node: 'n', file: 0, start: 'empty' }) + frame({ type: 'synced' })), /is event log version 2; this build reads version 1/],
    [join(dir, 'missing.log'), /cannot read .*missing\.log: ENOENT/],
  ];
  for (const [path, message] of cases) assert.throws(() => [...readLog([path])], (e: unknown) => e instanceof LogError && message.test((e as Error).message), path);
});

test('rotation: each file starts with a snapshot and replays alone to the live maps', () => {
  const dir = tmp('rotate');
  const live = new MemoryStore();
  const mapsAfter: string[] = []; // the live maps after each batch, by batch number - 1
  const files = record(dir, { maxBytes: 1200, apply: (d) => (live.apply(d), mapsAfter.push(renderMaps('node-a', live))) });
  assert.ok(files.length >= 4, `only ${files.length} files`);
  for (const f of files) assert.ok(statSync(f).size < 40_000);
  for (const [i, file] of files.entries()) {
    const { steps, maps } = replay([file]);
    const done = batchesOf(steps);
    assert.ok(done.every((b) => b.endsWith(' true')), `${file}: ${done}`);
    assert.equal(warnings(steps), [], file);
    if (i > 0) assert.match(done[0], /^snapshot /, 'a rotated file begins with its snapshot');
    const last = Number(done.at(-1)!.split(' ')[1]);
    assert.is(maps, mapsAfter[last - 1], `${file} alone ends at the maps after batch ${last}`);
  }
  const all = replay(files);
  assert.equal(warnings(all.steps), []);
  assert.is(all.maps, mapsAfter.at(-1));
  const snapshots = all.steps.filter((s) => s.type === 'batch' && s.boundary.type === 'snapshot');
  assert.ok(snapshots.every((s) => s.type === 'batch' && s.compiled.maps.length === 0), 'in sequence, a snapshot changes nothing');
});

test('a file missing from a sequence is noticed at the next snapshot', () => {
  const dir = tmp('gap');
  const files = record(dir, { maxBytes: 1200 });
  const { steps } = replay([files[0], ...files.slice(2)]);
  assert.match(warnings(steps).join('\n'), /snapshot \d+ follows batch 1 \(a file missing, or out of order\?\)/);
  assert.match(warnings(steps).join('\n'), /differs from the replayed state: events were lost between files/);
  assert.ok(batchesOf(steps).every((b) => b.endsWith(' true')), 'the snapshot puts the state right');
});

test.run();
