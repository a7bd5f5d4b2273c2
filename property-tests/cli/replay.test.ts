// sluice replay: arguments and exit status, the shipped log verified, a
// tampered one caught at the right batch and object, and the final view equal
// to `sluice compile` of the state the log ends in. (Needs `npm run build`.)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileCommand } from '../../runtime/cli/compile.ts';
import { UsageError, type Io } from '../../runtime/cli/io.ts';
import { parseReplayArgs, replayCommand } from '../../runtime/cli/replay.ts';
import { keyOf } from '../../runtime/encode/objectKey.ts';
import { reseal } from '../log/reseal.ts';
import { logFiles, readLog } from '../../runtime/log/readLog.ts';
import type { KubeEvent, KubeObject } from '../../runtime/sources/events.ts';
import { record } from '../../tools/record-example.ts';
import { freshDifference, readEventLog } from '../model/eventLog.ts';
import type { Json } from '../model/kube.ts';

const MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;
const EXAMPLE = new URL('../../examples/recorded.log', import.meta.url).pathname;
const sluice = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
/** A command run in this process (usage errors throw; the tests of those spawn the CLI). */
function inProcess(command: (args: readonly string[], io: Io) => number, args: string[]): { status: number; stdout: string; stderr: string } {
  let stdout = '', stderr = '';
  const status = command(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { status, stdout, stderr };
}
const replay = (...args: string[]) => inProcess(replayCommand, args);
const compile = (...args: string[]) => inProcess(compileCommand, args);
const dir = mkdtempSync(join(tmpdir(), 'sluice-replay-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the shipped log with each record passed through edit, then framed and sealed again (chains and counts
 * recomputed): a forgery that only the diffs' hashes, or a key, can catch. */
function tampered(name: string, edit: (event: { type: string; [k: string]: unknown }) => object[]): string {
  const lines = readFileSync(EXAMPLE, 'utf8').split('\n').filter((l) => l !== '');
  const path = join(dir, name);
  writeFileSync(path, reseal(lines.flatMap((l) => edit(JSON.parse(l.slice(9))))));
  return path;
}

test('arguments', () => {
  const none = { key: undefined, keyFile: undefined };
  assert.equal(parseReplayArgs(['a.log', 'b.log', '--verify', '--until', '3']), { logs: ['a.log', 'b.log'], node: undefined, verify: true, ...none, until: 3, pinRoot: undefined, format: 'table' });
  assert.equal(parseReplayArgs(['d/', '--apply', '--pin-root', '/sys/fs/bpf/x', '--node', 'n2', '--format', 'maps']),
    { logs: ['d/'], node: 'n2', verify: false, ...none, until: undefined, pinRoot: '/sys/fs/bpf/x', format: 'maps' });
  assert.is(parseReplayArgs(['--help']), undefined);
  for (const bad of [[], ['a.log', '--format', 'xml'], ['a.log', '--until', 'three'], ['a.log', '--until', '-1'], ['a.log', '--apply'],
    ['a.log', '--pin-root', '/x'], ['a.log', '--node', ''], ['a.log', '--bogus'], ['a.log', '--key', EXAMPLE], ['a.log', '--verify', '--key', join(dir, 'none')]]) {
    assert.throws(() => parseReplayArgs(bad), (e: unknown) => e instanceof UsageError, bad.join(' '));
  }
});

test('usage errors exit 2: bad options, a file that is no event log, --verify for another node', () => {
  const notLog = join(dir, 'cluster.log');
  writeFileSync(notLog, 'apiVersion: v1\nkind: List\n');
  for (const [args, message] of [
    [['replay'], /no log files/],
    [['replay', EXAMPLE, '--until', 'x'], /--until must be a batch number/],
    [['replay', notLog], /is not a sluice event log/],
    [['replay', join(dir, 'missing.log')], /cannot read .*ENOENT/],
    [['replay', EXAMPLE, '--verify', '--node', 'node-b'], /recorded for node node-a, so its hashes cannot match --node node-b/],
  ] as [string[], RegExp][]) {
    const r = sluice(...args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, message);
    assert.match(r.stderr, /\nusage: sluice replay/);
  }
  const help = sluice('replay', '--help');
  assert.equal([help.status, help.stderr], [0, '']);
  assert.match(help.stdout, /^usage: sluice replay <log>\.\.\./);
});

/** The head line replay prints per batch, derived with the tests' own log reader and fresh compiles. */
function expectedHeads(path: string): string[] {
  const { header, batches } = readEventLog(path);
  let before: Json[] = [];
  return batches.map((b) => {
    const after = [...b.state.values()];
    const maps = Object.entries(freshDifference(before, after, header.node as string)).map(([m, c]) =>
      `${m} ${[c.added && `+${c.added}`, c.deleted && `-${c.deleted}`, c.changed && `~${c.changed}`].filter(Boolean).join(' ')}`);
    before = after;
    const n = b.events.length;
    return `batch ${b.batch}: ${n} event${n === 1 ? '' : 's'} (${b.at}); ${maps.length ? maps.join(', ') : 'no change'}; verified`;
  });
}

test('the shipped log replays and verifies from a fresh clone', () => {
  const r = replay(EXAMPLE, '--verify');
  assert.is(r.status, 0, r.stderr);
  const heads = expectedHeads(EXAMPLE);
  assert.match(r.stderr, new RegExp(`^sluice replay: verified ${heads.length} batches \\(integrity only`));
  assert.equal(r.stdout.split('\n').filter((l) => /^batch \d/.test(l)), heads);
  assert.ok(heads.some((h) => h.endsWith('no change; verified')), 'a batch that changes nothing');
  assert.match(r.stdout, /\nbatch 4: [^\n]*\n {2}delete Service shop\/reports\n {2}delete EndpointSlice shop\/reports-h2v8r\n/);
  assert.ok(readFileSync(EXAMPLE).length < 100_000);
});

test('a changed object: --verify names the batch and the object, exit 1', () => {
  const log = tampered('changed.log', (r) => {
    const o = r.object as KubeObject | undefined;
    if (r.type === 'upsert' && o?.metadata.resourceVersion === '2001') return [JSON.parse(JSON.stringify(r).replace('10.244.1.14', '10.244.1.15'))];
    return [r];
  });
  const r = replay(log, '--verify');
  assert.is(r.status, 1);
  assert.is(r.stderr, 'sluice replay: batch 2 differs from the recording: EndpointSlice shop/web-8kq2z\n');
  // The op counts: the tampered batch's fresh difference, and what the shipped log recorded.
  const [shipped, changed] = [readEventLog(EXAMPLE), readEventLog(log)];
  const replayed = Object.values(freshDifference([...changed.batches[0].state.values()], [...changed.batches[1].state.values()], 'node-a'))
    .reduce((n, c) => n + c.added + c.changed + c.deleted, 0);
  assert.match(r.stdout, new RegExp(`\\nbatch 2: 1 event [^\\n]*\\n {2}upsert EndpointSlice shop/web-8kq2z\\n {2}DIFFERS from the recording: ` +
    `replayed ${replayed} ops sha256 [0-9a-f]{64}, recorded ${shipped.batches[1].ops} ops sha256 [0-9a-f]{64}\\n {2}maps that differ: sl_be, sl_maglev\\n` +
    ' {2}object: EndpointSlice shop/web-8kq2z \\(the only change in the batch that touches those maps\\)\\n$'));
  assert.not.match(r.stdout, /batch 3/, 'replay stops at the first divergence');
});

test('an object the live run never saw: named exactly', () => {
  const extra = { type: 'upsert', object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'extra', namespace: 'shop' }, spec: { clusterIP: '10.96.99.99', ports: [{ port: 80 }] } } };
  const log = tampered('extra.log', (r) => (r.type === 'batch' && r.batch === 3 ? [extra, r] : [r]));
  const r = replay(log, '--verify');
  assert.is(r.status, 1);
  assert.match(r.stderr, /sluice replay: batch 3 differs from the recording: Service shop\/extra\n$/);
  assert.match(r.stdout, /\n {2}object: Service shop\/extra \(the batch without its change gives the recorded diff\)\n$/);
  assert.is(replay(log).status, 0, 'without --verify the same log just replays');
});

test('--until stops after the batch', () => {
  const r = replay(EXAMPLE, '--until', '3', '--format', 'json');
  assert.is(r.status, 0, r.stderr);
  const docs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(docs.slice(0, -1).map((d) => d.batch), [1, 2, 3]);
  assert.ok(docs.at(-1).frontends.some((f: { service: string }) => f.service === 'shop/reports'), 'deleted only in batch 4');
  assert.equal(docs[1].maps, [{ map: 'sl_be', added: 1, deleted: 1, changed: 0 }, { map: 'sl_maglev', added: 0, deleted: 0, changed: 1 }]); // a backend of 3 swapped: its id changes in the set's one entry
});

test('a torn shipped log replays with a warning, exit 0; --verify verifies what is there and calls it incomplete, exit 1', () => {
  const path = join(dir, 'torn.log');
  writeFileSync(path, readFileSync(EXAMPLE));
  truncateSync(path, readFileSync(EXAMPLE).length - 25);
  const plain = replay(path);
  assert.is(plain.status, 0, plain.stderr);
  assert.match(plain.stderr, /^sluice replay: incomplete: [^\n]*torn\.log:\d+: torn record at the end of the file/);
  const r = replay(path, '--verify');
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /verified 5 batches \(integrity only[^\n]*\), but the log is incomplete: no clean-shutdown marker/);
});

/** The objects a log ends with: its last file's events (a rotated file starts with the snapshot) folded by key. */
function finalState(files: string[]): KubeObject[] {
  const state = new Map<string, KubeObject>();
  for (const item of readLog([files.at(-1)!])) {
    const e = item.type === 'event' ? (item.event as KubeEvent) : undefined;
    if (!e || e.type === 'synced') continue;
    const key = keyOf(e.object)!.key;
    if (e.type === 'upsert') state.set(key, e.object);
    else state.delete(key);
  }
  return [...state.values()];
}

test('the final view equals `sluice compile` of the final state, in every format', () => {
  const rotated = join(dir, 'rotated');
  record(rotated, { maxBytes: 3000 });
  for (const logs of [[EXAMPLE], logFiles([rotated])]) {
    const snapshot = join(dir, 'final.json');
    writeFileSync(snapshot, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: finalState(logs) }));
    for (const format of ['table', 'json', 'maps']) {
      const compiled = compile(snapshot, '--node', 'node-a', '--format', format);
      const replayed = replay(...logs, '--format', format);
      assert.is(compiled.status, 0, compiled.stderr);
      assert.is(replayed.status, 0, replayed.stderr);
      assert.ok(replayed.stdout.endsWith(format === 'json' ? compiled.stdout : `\n\n${compiled.stdout}`), `${logs.length} files, ${format}:\n${replayed.stdout}`);
    }
  }
});

test('--apply needs maps pinned already, and says so', () => {
  const r = replay(EXAMPLE, '--apply', '--pin-root', dir);
  assert.is(r.status, 1);
  assert.match(r.stderr, /^sluice replay --apply: open sl_svc: no map pinned at .*; run `sluice apply` first/);
});

test.run();
