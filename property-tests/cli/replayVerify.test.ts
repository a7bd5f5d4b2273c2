// `sluice replay --verify` means verified: a log that is not whole, in order
// and unchanged fails (exit 1, the first fault named), though the diffs it
// does replay match; a log without its clean-shutdown marker is incomplete;
// with --key a log edited and sealed again fails too. (Needs `npm run build`.)
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Io } from '../../runtime/cli/io.ts';
import { replayCommand } from '../../runtime/cli/replay.ts';
import { frameJson } from '../../runtime/log/format.ts';
import { logFiles } from '../../runtime/log/readLog.ts';
import { record } from '../../tools/record-example.ts';
import { reseal } from '../log/reseal.ts';

const EXAMPLE = new URL('../../examples/recorded.log', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'sluice-verify-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const lines = () => readFileSync(EXAMPLE, 'utf8').split('\n').filter((l) => l !== '').map((l) => `${l}\n`);
const json = (line: string) => JSON.parse(line.slice(9)) as { type: string; [k: string]: unknown };
const write = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));

function replay(...args: string[]): { status: number; stdout: string; stderr: string } {
  let stdout = '', stderr = '';
  const io: Io = { out: (t) => (stdout += t), err: (t) => (stderr += t) };
  const status = replayCommand(args, io);
  return { status, stdout, stderr };
}

/** --verify fails with the fault named on its last line; without --verify the same log replays, exit 0. */
function fails(log: string, fault: RegExp, ...more: string[]): void {
  const r = replay(log, '--verify', ...more);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr.trimEnd().split('\n').at(-1)!, fault);
}

test('a damaged record that does not change the diff fails verification', () => {
  const l = lines();
  const at = l.findLastIndex((x) => x.includes('"type":"upsert"')); // batch 5 repeats an update: without it, the same diff
  l[at] = l[at].replace('"2003"', '"2004"');
  const log = write('damaged.log', l.join(''));
  fails(log, /^sluice replay: not verified: .*damaged\.log:\d+: checksum mismatch: damaged record skipped$/);
  assert.is(replay(log).status, 0);
});

test('pure junk after a valid header fails; it does not verify 0 batches', () => {
  const log = write('junk.log', lines()[0] + 'x'.repeat(100) + '\n' + '{"type":"batch"}\n');
  fails(log, /junk\.log:2: not a framed record: damaged record skipped$/);
});

test('a header alone is incomplete, not verified', () => {
  const log = write('header.log', lines()[0]);
  fails(log, /^sluice replay: verified 0 batches \(integrity only.*\), but the log is incomplete: no clean-shutdown marker/);
});

test('batches in another order fail', () => {
  const l = lines();
  const ends = l.flatMap((x, i) => (json(x).type === 'batch' ? [i] : []));
  const third = l.slice(ends[1] + 1, ends[2] + 1), fourth = l.slice(ends[2] + 1, ends[3] + 1);
  const log = write('reordered.log', [...l.slice(0, ends[1] + 1), ...fourth, ...third, ...l.slice(ends[3] + 1)].join(''));
  fails(log, /reordered\.log:\d+: batch 4: the digest chain breaks/);
});

test('a duplicated event fails', () => {
  const l = lines();
  const at = l.findIndex((x) => x.includes('search-z81kq'));
  l.splice(at, 0, l[at]);
  fails(write('duplicated.log', l.join('')), /duplicated\.log:\d+: batch 3: 2 events recorded, 3 read \(one added or duplicated\)$/);
});

test('a rotated file missing, or renumbered, fails', () => {
  const rotated = join(dir, 'rotated');
  const files = record(rotated, { maxBytes: 1200 });
  assert.ok(files.length >= 4);
  assert.is(replay(rotated, '--verify').status, 0, 'whole, it verifies');
  rmSync(files[1]);
  fails(rotated, /events-000002\.log:1: file 2: 1 file\(s\) missing after .*events-000000\.log \(events-000001\.log\)$/);
  const renumbered = join(dir, 'renumbered');
  const again = record(renumbered, { maxBytes: 1200 });
  renameSync(again.at(-1)!, join(renumbered, 'events-000009.log'));
  fails(renumbered, /events-000009\.log:1: the header says file \d+ \(events-00000\d\.log\): renamed, or moved from another log$/);
  assert.equal(logFiles([renumbered]).length, again.length);
});

test('an agent that crashed, then a new one: a note, not a failure; a rotated file after an emptied one fails', () => {
  const restarted = join(dir, 'restarted');
  const [first] = record(restarted);
  record(restarted);
  writeFileSync(first, readFileSync(first, 'utf8').split('\n').slice(0, -2).join('\n') + '\n'); // its end record gone: killed
  const r = replay(restarted, '--verify');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /^sluice replay: incomplete: [^\n]*events-000001\.log:1: [^\n]*events-000000\.log ends without a clean-shutdown marker: that agent crashed or was killed; a new one starts here$/m);
  assert.match(r.stderr, /verified 10 batches/);
  const emptied = join(dir, 'emptied');
  const files = record(emptied, { maxBytes: 1200 });
  writeFileSync(files[1], '');
  fails(emptied, /events-000002\.log:1: a rotated file that does not continue .*events-000001\.log \(which has no header\)$/);
});

test('the end record cut off: incomplete, exit 1, though every batch verified', () => {
  const log = write('noend.log', lines().slice(0, -1).join(''));
  const r = replay(log, '--verify');
  assert.is(r.status, 1);
  assert.match(r.stderr, /^sluice replay: verified 5 batches \(integrity only[^)]*\), but the log is incomplete: no clean-shutdown marker/m);
});

test('an edit sealed again passes integrity only, and says so; with the key it fails', () => {
  const forged = (l: string[]) => reseal(l.map(json).map((r) => (r.type === 'batch' && r.batch === 2 ? { ...r, at: '2030-01-01T00:00:00.000Z' } : r)));
  const plain = write('forged.log', forged(lines()));
  const r = replay(plain, '--verify');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /verified 5 batches \(integrity only: CRCs and the digest chain; without a key, a log edited and sealed again would pass too\)\n$/);

  const key = write('key', 'k'.repeat(32));
  const signedDir = join(dir, 'signed');
  const [signed] = record(signedDir, { key: Buffer.from('k'.repeat(32)) });
  const ok = replay(signed, '--verify', '--key', key);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, `verified 5 batches (authentic: every boundary signed with the key in ${key})`);
  assert.match(replay(signed, '--verify').stderr, 'the log is signed, pass --key to check it');
  const signedLines = readFileSync(signed, 'utf8').split('\n').filter((l) => l !== '').map((l) => `${l}\n`);
  const resealed = write('resealed.log', forged(signedLines));
  fails(resealed, /resealed\.log:\d+: not signed: the log was recorded without --record-key, or the mac was stripped$/, '--key', key);
  const withMac = signedLines.map((l) => {
    const r = json(l);
    return r.type === 'batch' && r.batch === 2 ? frameJson(JSON.stringify({ ...r, at: '2030-01-01T00:00:00.000Z' })) : l;
  });
  fails(write('edited.log', withMac.join('')), /edited\.log:\d+: batch 2: the digest chain breaks/, '--key', key);
  const otherKey = write('other-key', 'o'.repeat(32));
  fails(signed, /events-000000\.log:\d+: the mac does not match the key: the log was changed and sealed again, or signed with another key$/, '--key', otherKey);
  fails(EXAMPLE, /recorded\.log:\d+: not signed/, '--key', key);
});

test.run();
