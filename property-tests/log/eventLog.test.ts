// The event log: what goes in comes out (cut to what the normalizer reads,
// in files only root can read), damage costs only the damaged record, every
// rotated file replays alone to the maps the live run had, and a writer that
// fails (another writer's file in the way) leaves nothing half closed.
// (Needs build/compiler.*.wasm: `npm run build`.)
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
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
const made: string[] = [];
const tmp = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `sluice-log-${name}-`));
  made.push(dir);
  return dir;
};
test.after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const strip = (items: LogItem[]) => items.map(({ where: _, ...rest }) => rest);
const warnings = (items: readonly (LogItem | ReplayStep)[]) => items.flatMap((i) => (i.type === 'warning' ? [i.message] : []));
const failures = (steps: readonly ReplayStep[]) => steps.flatMap((s) => (s.type === 'failed' ? [s.message] : []));
const NO_END = 'no clean-shutdown marker: the log is incomplete (its agent was killed, crashed, lost a write, or is still recording)';
const batchesOf = (steps: readonly ReplayStep[]) => steps.flatMap((s) => (s.type === 'batch' ? [`${s.boundary.type} ${s.boundary.batch} ${s.verified}`] : []));

/** Replays files to the end; the steps and the final maps. */
function replay(files: string[]): { steps: ReplayStep[]; maps: string } {
  const r = new Replay({ verify: true });
  const steps = [...readLog(files)].flatMap((i) => r.push(i));
  steps.push(...r.end());
  return { steps, maps: renderMaps('node-a', r.state!.store) };
}

const svc = (name: string) => ({
  apiVersion: 'v1', kind: 'Service',
  metadata: { name, namespace: 'default', resourceVersion: '7', labels: { 'app.kubernetes.io/name': 'ünï\ncode' }, annotations: { token: 's3cret' }, managedFields: [{ manager: 'kubectl' }] },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.50', clusterIPs: ['10.96.0.50'], ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: 'a' } },
});
/** What the normalizer reads of svc(name): the rest is not recorded. */
const recordedSvc = (name: string) => {
  const { annotations: _a, managedFields: _m, ...metadata } = svc(name).metadata;
  const { selector: _s, clusterIP: _c, ...spec } = svc(name).spec; // clusterIPs given: clusterIP is not read
  return { ...svc(name), metadata, spec };
};

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
  assert.equal(items.map((i) => i.where.replace(dir, '')), [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `/events-000000.log:${n}`));
  assert.equal(items.map((i) => {
    if (i.type === 'header') return i.header;
    if (i.type === 'batch') return `batch ${i.boundary.batch}: ${i.boundary.events} events, ${i.boundary.sha256} ${Object.keys(i.boundary.maps).join(',')} at ${i.boundary.at}`;
    if (i.type === 'end') return `end after batch ${i.end.batch}`;
    return i.type === 'event' ? i.event : i.message;
  }), [
    { type: 'header', format: 'sluice-event-log', version: 2, node: 'n1', file: 0, start: 'empty' },
    { type: 'upsert', object: recordedSvc('a') }, // managedFields, annotations and the selector dropped
    { type: 'synced' },
    `batch 1: 2 events, ${hashes[0]} at 2026-01-01T00:00:00.000Z`,
    `batch 2: 0 events, ${hashes[1]} at 2026-01-01T00:00:00.000Z`,
    { type: 'delete', object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'default', resourceVersion: '7' } } }, // a delete keeps its identity
    `batch 3: 1 events, ${hashes[2]} at 2026-01-01T00:00:00.000Z`,
    'end after batch 3',
  ], 'the event after the last boundary is dropped at close');
  assert.not.match(readFileSync(join(dir, 'events-000000.log'), 'utf8'), 's3cret');
  assert.is(statSync(dir).mode & 0o777, 0o700, 'the directory: owner only');
  assert.is(statSync(join(dir, 'events-000000.log')).mode & 0o777, 0o600, 'the file: owner only');
});

test('a file another writer made in the way of a rotation: the batch throws, naming it; close() then closes nothing twice', () => {
  const dir = tmp('inway');
  const compiler = new Compiler({ node: 'n1' });
  const log = new EventLogWriter(dir, { node: 'n1', image: () => compiler.rebuild(), maxBytes: 1 });
  writeFileSync(join(dir, 'events-000001.log'), '');
  log.event({ type: 'upsert', object: svc('a') });
  assert.throws(() => log.batch(1, compiler.batch(encodeRecords(changesOf([{ type: 'upsert', object: svc('a') }]).changes.map((c) => c.record)))),
    (e: Error) => e.message === `EEXIST: file already exists, open '${dir}/events-000001.log'`);
  log.close(); // threw EBADF: the fd was closed once by rotate(), then again here
  log.close();
});

test('one writer per directory: a second is refused while the first holds it, and may start once it closed', () => {
  const dir = tmp('lock');
  const image = () => new Compiler({ node: 'n1' }).rebuild();
  const first = new EventLogWriter(dir, { node: 'n1', image });
  assert.throws(() => new EventLogWriter(dir, { node: 'n1', image }), (e: Error) => e.message === `${dir} is being recorded by another sluice agent (pid ${process.pid}); give each agent a directory of its own`);
  first.close();
  const second = new EventLogWriter(dir, { node: 'n1', image });
  second.close();
  assert.equal(second.files.map((f) => f.slice(dir.length)), ['/events-000001.log']);
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
  assert.equal(failures(steps), []);
});

test('a torn last record is skipped with a warning; the rest replays', () => {
  const path = join(tmp('torn'), 'events-000000.log');
  copyFileSync(EXAMPLE, path);
  const whole = readFileSync(path);
  const lastStart = whole.lastIndexOf(0x0a, whole.length - 2) + 1;
  truncateSync(path, lastStart + 40); // mid-way through batch 5's boundary
  truncateSync(path, whole.lastIndexOf(0x0a, lastStart - 2) + 1 + 40); // mid-way through batch 5's boundary, before the end record
  const { steps } = replay([path]);
  assert.equal(batchesOf(steps), [1, 2, 3, 4].map((n) => `batch ${n} true`));
  const w = warnings(steps);
  assert.is(w.length, 3, w.join('\n'));
  assert.match(w[0], /^torn record at the end of the file \(no newline/);
  assert.match(w[1], /^2 events without a batch boundary before the log ends: that batch never completed live/);
  assert.match(w[2], /^no clean-shutdown marker: the log is incomplete/);
  assert.equal(failures(steps), [], 'a log that stops short is incomplete, not wrong');

  // Whole line there, newline and all, but the bytes are not what was checksummed.
  writeFileSync(path, Buffer.concat([whole.subarray(0, lastStart), Buffer.from(whole.subarray(lastStart).toString().replace('"batch":5', '"batch":6'))]));
  assert.match(warnings(replay([path]).steps)[0], /^torn record at the end of the file \(checksum mismatch/);

  writeFileSync(path, whole.subarray(0, 30)); // torn inside the header: nothing to replay, still no error
  assert.equal(strip([...readLog([path])]), [{ type: 'warning', incomplete: true, message: 'torn record at the end of the file (no newline; a crash while writing?), skipped' }]);
  writeFileSync(path, '');
  assert.equal(strip([...readLog([path])]), [{ type: 'warning', incomplete: true, message: 'empty file (a writer that stopped before its first line)' }]);
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
  assert.equal(failures(replay([path]).steps), ['checksum mismatch: damaged record skipped'], 'under verify the first damage fails, though it does not change the diff');
});

test('files that are not a sluice event log, or of another version, are errors', () => {
  const dir = tmp('bad');
  const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  const cases: [string, RegExp][] = [
    [write('yaml.log', 'apiVersion: v1\nkind: List\n'), /is not a sluice event log \(line 1: not a framed record\)/],
    [write('nohead.log', frame({ type: 'synced' }) + frame({ type: 'synced' })), /is not a sluice event log \(no header\)/],
    [write('v1.log', frame({ type: 'header', format: 'sluice-event-log', version: 1, node: 'n', file: 0, start: 'empty' }) + frame({ type: 'synced' })), /is event log version 1; this build reads version 2/],
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
    assert.equal(failures(steps), [], file);
    assert.equal(warnings(steps), i === files.length - 1 ? [] : [NO_END], `${file}: only the last file holds the end record`);
    if (i > 0) assert.match(done[0], /^snapshot /, 'a rotated file begins with its snapshot');
    const last = Number(done.at(-1)!.split(' ')[1]);
    assert.is(maps, mapsAfter[last - 1], `${file} alone ends at the maps after batch ${last}`);
  }
  const all = replay(files);
  assert.equal([warnings(all.steps), failures(all.steps)], [[], []]);
  assert.is(all.maps, mapsAfter.at(-1));
  const snapshots = all.steps.filter((s) => s.type === 'batch' && s.boundary.type === 'snapshot');
  assert.ok(snapshots.every((s) => s.type === 'batch' && s.compiled.maps.length === 0), 'in sequence, a snapshot changes nothing');
});

test('a file missing from a sequence: a warning, and under verify a failure naming it', () => {
  const dir = tmp('gap');
  const files = record(dir, { maxBytes: 1200 });
  const items = [...readLog([files[0], ...files.slice(2)])];
  assert.equal(warnings(items), [`file 2: 1 file(s) missing after ${files[0]} (events-000001.log)`]);
  assert.equal(failures(replay([files[0], ...files.slice(2)]).steps), [`file 2: 1 file(s) missing after ${files[0]} (events-000001.log)`]);
});

test.run();
