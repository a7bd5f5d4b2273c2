// Replay, the engine behind `sluice replay`, fed the items of real logs (the
// example, and the example recorded with rotation and a key by the agent's
// writer) read by this file's own parser, some of them cut or edited by
// hand. It holds to: --until replays through its batch and then wants no
// more items, even when that batch is missing; a batch that does not follow
// the one before, and a rotated file's snapshot that is not the replayed
// state, are warned about; events left without a boundary are warned about,
// as the log stopping short (before its end, or a new agent's file) or as
// what a log as written cannot hold (before an end record or a rotated
// file), and not replayed; a header for another node is warned about; with
// verify the first warning that is not about stopping short fails, and
// nothing is wanted after it; with a key every boundary's mac must be the
// key's; a snapshot that differs names the maps that differ, no object.
// Every expected message, place and batch number is read off the edit made.
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BatchBoundary, EndRecord, LogHeader, LogItem, SnapshotBoundary } from '../../runtime/log/format.ts';
import { Replay, type ReplayOptions, type ReplayStep } from '../../runtime/log/replay.ts';
import type { KubeEvent } from '../../runtime/sources/events.ts';
import { record } from '../../tools/record-example.ts';

type Rec = { type: string; [k: string]: unknown };
const KEY = new Uint8Array(32).fill(7), OTHER = new Uint8Array(32).fill(8);

/** A log file's items, as readLog would give them for an undamaged file: where is "name:line". */
function itemsOf(name: string, text: string): LogItem[] {
  return text.split('\n').filter((l) => l !== '').map((line, i): LogItem => {
    const r = JSON.parse(line.slice(9)) as Rec, where = `${name}:${i + 1}`;
    if (r.type === 'header') return { type: 'header', header: r as unknown as LogHeader, where };
    if (r.type === 'batch' || r.type === 'snapshot') return { type: 'batch', boundary: r as unknown as BatchBoundary | SnapshotBoundary, where };
    if (r.type === 'end') return { type: 'end', end: r as unknown as EndRecord, where };
    return { type: 'event', event: r as unknown as KubeEvent, where };
  });
}

const EXAMPLE = new URL('../../examples/recorded.log', import.meta.url).pathname;
/** One file, batches 1 to 5, an end record, no mac. */
const example = () => itemsOf('recorded.log', readFileSync(EXAMPLE, 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'sluice-replay-'));
const signedFiles = record(dir, { maxBytes: 1200, key: KEY }).map((f) => itemsOf(basename(f), readFileSync(f, 'utf8')));
/** Five files, signed with KEY: 0 batch 1; 1 snapshot 1, batch 2; 2 snapshot 2, batch 3; 3 snapshot 3, batches 4 and 5; 4 snapshot 5, end. */
const rotated = () => structuredClone(signedFiles);
rmSync(dir, { recursive: true, force: true });

const boundaryAt = (items: LogItem[], type: string, batch: number) =>
  items.findIndex((i) => i.type === 'batch' && i.boundary.type === type && i.boundary.batch === batch);
const brief = (s: ReplayStep) => (s.type === 'batch' ? `${s.boundary.type} ${s.boundary.batch}` : s);

function run(items: LogItem[], opts: ReplayOptions = {}) {
  const replay = new Replay(opts);
  const steps = items.flatMap((i) => replay.push(i));
  return { replay, steps: steps.map(brief), end: replay.end() };
}

const ORPHANS = 'without a batch boundary before';
const NOT_REPLAYED = 'that batch never completed live; not replayed';

test('the logs as recorded replay whole, without a warning; a boundary before any header is an error', () => {
  assert.equal(run(example(), { verify: true }).steps, ['batch 1', 'batch 2', 'batch 3', 'batch 4', 'batch 5']);
  const r = run(rotated().flat(), { verify: true, key: KEY });
  assert.equal(r.steps, ['batch 1', 'snapshot 1', 'batch 2', 'snapshot 2', 'batch 3', 'snapshot 3', 'batch 4', 'batch 5', 'snapshot 5']);
  assert.equal(r.end, []);
  const boundary = example()[boundaryAt(example(), 'batch', 1)]; // line 45: after the header and batch 1's 43 events
  assert.throws(() => new Replay({}).push(boundary), (e: Error) => e.message === 'recorded.log:45: a boundary before any header');
});

test('--until: batches through it, then nothing more is wanted', () => {
  const items = example(), replay = new Replay({ until: 2 });
  const two = boundaryAt(items, 'batch', 2);
  const steps = items.slice(0, two).flatMap((i) => replay.push(i));
  assert.not.ok(replay.done, 'batch 2 not yet read');
  steps.push(...replay.push(items[two]));
  assert.ok(replay.done, 'done once batch 2 is replayed, so the reader can stop');
  assert.equal(steps.map(brief), ['batch 1', 'batch 2']);
  assert.equal(items.slice(two + 1).flatMap((i) => replay.push(i)), [], 'items past it give nothing');
  assert.equal(replay.end(), []);
});

test('--until: a batch past it ends the replay unreplayed, when its own batch is missing or before the first file read', () => {
  const items = example(), replay = new Replay({ until: 3 });
  const [two, three] = [boundaryAt(items, 'batch', 2), boundaryAt(items, 'batch', 3)];
  const four = boundaryAt(items, 'batch', 4);
  const steps = [...items.slice(0, two + 1), ...items.slice(three + 1, four)].flatMap((i) => replay.push(i));
  assert.not.ok(replay.done);
  assert.equal(replay.push(items[four]), [], 'batch 4 is past 3');
  assert.ok(replay.done);
  assert.equal(steps.map(brief), ['batch 1', 'batch 2']);
  assert.equal(replay.end(), [], 'batch 4\'s events are not reported as left without a boundary');

  const files = rotated(), from3 = new Replay({ until: 2 });
  const snapshot = boundaryAt(files[3], 'snapshot', 3);
  assert.equal(files[3].slice(0, snapshot + 1).flatMap((i) => from3.push(i)), []);
  assert.ok(from3.done, 'the first file read starts after batch 2');
  assert.equal(from3.end(), []);
});

test('a batch that does not follow the one before is warned about, where it is read, and replayed', () => {
  const items = example();
  const [two, three] = [boundaryAt(items, 'batch', 2), boundaryAt(items, 'batch', 3)];
  const r = run([...items.slice(0, two + 1), ...items.slice(three + 1)]);
  assert.equal(r.steps, ['batch 1', 'batch 2',
    { type: 'warning', where: items[boundaryAt(items, 'batch', 4)].where, message: 'batch 4 follows batch 2 (a file missing, or out of order?)' },
    'batch 4', 'batch 5']);
});

test('a rotated file\'s snapshot that is not the replayed state: events were lost between files', () => {
  const files = rotated();
  const lost = files[2].findIndex((i) => i.type === 'event' && i.event.type === 'upsert' && i.event.object.metadata.name === 'search');
  assert.ok(lost > boundaryAt(files[2], 'snapshot', 2), 'batch 3 adds the search Service');
  files[2].splice(lost, 1);
  const r = run(files.flat());
  assert.equal(r.steps, ['batch 1', 'snapshot 1', 'batch 2', 'snapshot 2', 'batch 3',
    { type: 'warning', where: files[3][boundaryAt(files[3], 'snapshot', 3)].where, message: 'the snapshot after batch 3 differs from the replayed state: events were lost between files' },
    'snapshot 3', 'batch 4', 'batch 5', 'snapshot 5']);
});

test('with verify, a snapshot that differs from its record names the maps that differ, and ends the replay', () => {
  const files = rotated();
  const at = boundaryAt(files[3], 'snapshot', 3);
  const snap = (files[3][at] as Extract<LogItem, { type: 'batch' }>).boundary;
  snap.sha256 = '0'.repeat(64);
  snap.maps.sl_svc[2] = '0'.repeat(16);
  const replay = new Replay({ verify: true, key: KEY });
  const steps = files.slice(0, 3).flat().flatMap((i) => replay.push(i));
  assert.ok(steps.every((s) => s.type === 'batch' && s.verified));
  const last = files[3].slice(0, at + 1).flatMap((i) => replay.push(i));
  assert.is(last.length, 1);
  const step = last[0] as Extract<ReplayStep, { type: 'batch' }>;
  assert.is(step.verified, false);
  assert.equal(step.divergence, { maps: ['sl_svc'], objects: [], exact: false });
  assert.ok(replay.done);
  assert.equal(files[3].slice(at + 1).flatMap((i) => replay.push(i)), []);
});

test('events before a new agent\'s file: the log stopped short there; the new run starts from empty maps', () => {
  const items = example(), two = boundaryAt(items, 'batch', 2), three = boundaryAt(items, 'batch', 3);
  const again = itemsOf('next.log', readFileSync(EXAMPLE, 'utf8'));
  const r = run([...items.slice(0, three), ...again], { verify: true });
  const warning = { type: 'warning', where: items[two + 1].where, incomplete: true, message: `2 events ${ORPHANS} a new agent's file begins: ${NOT_REPLAYED}` };
  assert.equal(r.steps, ['batch 1', 'batch 2', warning, { type: 'restart', where: 'next.log:1' }, 'batch 1', 'batch 2', 'batch 3', 'batch 4', 'batch 5']);
  const replay = new Replay({});
  const steps = [...items.slice(0, three), ...again.slice(0, boundaryAt(again, 'batch', 1) + 1)].flatMap((i) => replay.push(i));
  const first = steps.at(-1) as Extract<ReplayStep, { type: 'batch' }>;
  assert.equal(first.events, again.slice(1, boundaryAt(again, 'batch', 1)).map((i) => (i as Extract<LogItem, { type: 'event' }>).event), 'the new batch 1 holds its own events only');
});

test('an event before a rotated file: a log as written cannot hold it; the snapshot shows what it lost', () => {
  const files = rotated();
  const two = boundaryAt(files[1], 'batch', 2);
  const orphan = files[1][two - 1].where;
  files[1].splice(two, 1);
  const r = run(files.flat());
  const snapshot2 = files[2][boundaryAt(files[2], 'snapshot', 2)].where;
  assert.equal(r.steps.slice(0, 6), ['batch 1', 'snapshot 1',
    { type: 'warning', where: orphan, message: `1 event ${ORPHANS} a rotated file begins: ${NOT_REPLAYED}` },
    { type: 'warning', where: snapshot2, message: 'snapshot 2 follows batch 1 (a file missing, or out of order?)' },
    { type: 'warning', where: snapshot2, message: 'the snapshot after batch 2 differs from the replayed state: events were lost between files' },
    'snapshot 2']);
  const verified = run(files.flat(), { verify: true, key: KEY });
  assert.equal(verified.steps.slice(2), [{ type: 'failed', where: orphan, message: `1 event ${ORPHANS} a rotated file begins: ${NOT_REPLAYED}` }]);
});

test('events before the end record: not as written, so verify fails; events at the end of a log without one: stopped short', () => {
  const items = example(), end = items.length - 1, five = boundaryAt(items, 'batch', 5);
  assert.is(items[end].type, 'end');
  const extra = items.slice(five - 2, five).map((i, n) => ({ ...i, where: `extra:${n}` }));
  const before = [...items.slice(0, end), ...extra, items[end]];
  const warning = { type: 'warning', where: 'extra:0', message: `2 events ${ORPHANS} the end record: ${NOT_REPLAYED}` };
  assert.equal(run(before).steps.at(-1), warning);
  assert.equal(run(before, { verify: true }).steps.at(-1), { type: 'failed', where: 'extra:0', message: warning.message });

  const cut = [...items.slice(0, end), extra[0]];
  const r = run(cut, { verify: true });
  assert.equal(r.steps.at(-1), 'batch 5');
  assert.equal(r.end, [
    { type: 'warning', where: 'extra:0', incomplete: true, message: `1 event ${ORPHANS} the log ends: ${NOT_REPLAYED}` },
    { type: 'warning', where: 'the end of the log', incomplete: true, message: 'no clean-shutdown marker: the log is incomplete (its agent was killed, crashed, lost a write, or is still recording)' },
  ]);
});

test('a file recorded for another node is warned about; with verify that fails, and only the failure is given', () => {
  const items = example();
  const other = itemsOf('other.log', readFileSync(EXAMPLE, 'utf8'));
  (other[0] as Extract<LogItem, { type: 'header' }>).header.node = 'node-b';
  const message = 'recorded for node node-b, the files before for node-a';
  assert.equal(run([...items, ...other]).steps.slice(5, 7), [{ type: 'warning', where: 'other.log:1', message }, { type: 'restart', where: 'other.log:1' }]);
  const replay = new Replay({ verify: true });
  items.forEach((i) => replay.push(i));
  assert.equal(replay.push(other[0]), [{ type: 'failed', where: 'other.log:1', message }]);
  assert.ok(replay.done);
});

test('with a key: a mac of another key fails at the first boundary and ends the replay; so does one on the end record', () => {
  const files = rotated().flat(), first = boundaryAt(files, 'batch', 1);
  const replay = new Replay({ verify: true, key: OTHER });
  const steps = files.slice(0, first + 1).flatMap((i) => replay.push(i));
  const wrong = 'the mac does not match the key: the log was changed and sealed again, or signed with another key';
  assert.equal(steps, [{ type: 'failed', where: files[first].where, message: wrong }]);
  assert.ok(replay.done);
  assert.equal(files.slice(first + 1).flatMap((i) => replay.push(i)), []);

  const end = files.at(-1) as Extract<LogItem, { type: 'end' }>;
  end.end.mac = createHmac('sha256', OTHER).update(end.end.chain).digest('hex');
  const r = run(files, { verify: true, key: KEY });
  assert.equal(r.steps.at(-1), { type: 'failed', where: end.where, message: wrong });
  delete end.end.mac;
  assert.equal(run(files, { verify: true, key: KEY }).steps.at(-1), { type: 'failed', where: end.where, message: 'not signed: the log was recorded without --record-key, or the mac was stripped' });
});

test('signed: with verify, every boundary read carried a mac, and there was one; a key is checked only with verify', () => {
  const signed = (items: LogItem[], opts: ReplayOptions) => run(items, opts).replay.signed;
  assert.ok(signed(rotated().flat(), { verify: true }));
  assert.not.ok(signed(example(), { verify: true }), 'no mac');
  assert.not.ok(signed(example().slice(0, 1), { verify: true }), 'a header alone: no boundary');
  assert.not.ok(signed(rotated().flat(), {}), 'not checked without verify');
  const unverified = run(example(), { key: KEY });
  assert.equal(unverified.steps, ['batch 1', 'batch 2', 'batch 3', 'batch 4', 'batch 5'], 'a key without verify checks nothing');
});

test.run();
