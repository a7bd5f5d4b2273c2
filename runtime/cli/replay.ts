// sluice replay: a recorded event log -> the same diffs, batch by batch, and
// at the end the view `sluice compile` prints for the state reached.
import { PinnedStore } from '../bpf/maps.ts';
import { labelOf, keyOf } from '../encode/objectKey.ts';
import { reconcile } from '../maps/reconcile.ts';
import { deleteCount, opCount, upsertCount } from '../maps/mapDiff.ts';
import type { MapStore } from '../maps/store.ts';
import type { KubeEvent } from '../sources/events.ts';
import { LogError, logFiles, readLog } from '../log/readLog.ts';
import { Replay, type BatchStep, type ReplayStep } from '../log/replay.ts';
import type { MapChange } from '../log/replayState.ts';
import type { ReplayState } from '../log/replayState.ts';
import { viewOf } from '../view/frontends.ts';
import { FORMATS, render, type Format, type NodeResult } from '../view/render.ts';
import { failed, parse } from './bpfArgs.ts';
import { UsageError, type Io } from './io.ts';
import { readKey } from './keyFile.ts';

export const REPLAY_USAGE = `usage: sluice replay <log>... [--node NAME] [--verify [--key FILE]] [--until BATCH]
                     [--apply --pin-root DIR] [--format table|json|maps]

Replays a recorded event log (files, or a directory of events-N.log files,
in order) through the normalizer and compiler, batch by batch as recorded.
Prints each batch's events and what its diff did to each map (+added
-deleted ~changed entries), then the view \`sluice compile\` prints for the
state reached.

  --node NAME      compile for this node (default: the one the log was recorded for)
  --verify         check that the log is whole and unchanged (every record
                   read, its digest chain intact, no file missing, renumbered
                   or out of order) and that each diff equals the hash
                   recorded live; stop at the first failure, naming it (for
                   a diff, the batch and the object). A log without its
                   clean-shutdown marker is incomplete
  --key FILE       with --verify: every boundary must carry this key's mac
                   (the run's --record-key), so the log is also authentic;
                   without it only integrity is checked
  --until BATCH    stop after batch BATCH
  --apply          bring the maps pinned under --pin-root to the final state
                   (only the entries that differ; the maps must be pinned
                   already, by \`sluice apply\` or the agent; needs root)
  --pin-root DIR   with --apply: where the maps are pinned
  --format FORMAT  table (default); json: one JSON document per batch, then
                   the view, one per line; maps: the table's batch lines,
                   then every map entry in hex and a sha256 of them all
  -h, --help       print this text

Without --verify, damaged records (a torn last line after a crash) are
skipped with a warning. Exit status: 0 done (with --verify: verified and
complete), 1 --verify failed or found the log incomplete, or --apply failed,
2 usage error (or a file that is not a sluice event log).
`;

interface ReplayArgs {
  logs: string[];
  node: string | undefined;
  verify: boolean;
  key: Uint8Array | undefined;
  keyFile: string | undefined;
  until: number | undefined;
  pinRoot: string | undefined;
  format: Format;
}

/** Returns undefined for --help. */
export function parseReplayArgs(args: readonly string[]): ReplayArgs | undefined {
  const p = parse(args, {
    node: { type: 'string' }, verify: { type: 'boolean' }, key: { type: 'string' }, until: { type: 'string' }, apply: { type: 'boolean' },
    'pin-root': { type: 'string' }, format: { type: 'string', default: 'table' },
  });
  if (!p) return undefined;
  const v = p.values;
  if (p.positionals.length === 0) throw new UsageError('no log files');
  if (!(FORMATS as readonly string[]).includes(v.format as string)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${v.format}"`);
  if (v.until !== undefined && !/^\d+$/.test(v.until as string)) throw new UsageError(`--until must be a batch number, not "${v.until}"`);
  if (v.apply === true && v['pin-root'] === undefined) throw new UsageError('--apply needs --pin-root: say which maps to overwrite');
  if (v.apply !== true && v['pin-root'] !== undefined) throw new UsageError('--pin-root is for --apply');
  if (v.key !== undefined && v.verify !== true) throw new UsageError('--key is for --verify');
  const keyFile = v.key as string | undefined;
  return {
    logs: p.positionals, node: v.node as string | undefined, verify: v.verify === true,
    key: keyFile === undefined ? undefined : readKey(keyFile, '--key'), keyFile,
    until: v.until === undefined ? undefined : Number(v.until), pinRoot: v['pin-root'] as string | undefined, format: v.format as Format,
  };
}

export function replayCommand(args: readonly string[], io: Io): number {
  const a = parseReplayArgs(args);
  if (!a) {
    io.out(REPLAY_USAGE);
    return 0;
  }
  const replay = new Replay({ node: a.node, verify: a.verify, until: a.until, key: a.key });
  const print = (steps: ReplayStep[]) => steps.forEach((s) => show(s, a.format, io));
  let batches = 0, snapshots = 0, diverged: BatchStep | undefined, broken: Extract<ReplayStep, { type: 'failed' }> | undefined;
  let incomplete: string | undefined; // why the log ends short, with --verify
  try {
    for (const item of readLog(logFiles(a.logs))) {
      const steps = replay.push(item);
      if (item.type === 'header' && a.verify && a.node !== undefined && a.node !== item.header.node) {
        throw new UsageError(`--verify: the log was recorded for node ${item.header.node}, so its hashes cannot match --node ${a.node}`);
      }
      print(steps);
      for (const s of steps) {
        if (s.type === 'failed') broken ??= s;
        if (s.type !== 'batch') continue;
        if (s.boundary.type === 'batch') batches++;
        else snapshots++;
        if (s.verified === false) diverged = s;
      }
      if (replay.done) break;
    }
  } catch (e) {
    if (e instanceof LogError) throw new UsageError(e.message);
    throw e;
  }
  const end = replay.end();
  print(end);
  // Only the end decides: a run that crashed mid-log, followed by a new agent's files, is a note.
  for (const s of end) if (s.type === 'warning' && s.incomplete) incomplete = s.message;
  if (!replay.state) throw new UsageError('the log holds no header');
  if (broken) {
    io.err(`sluice replay: not verified: ${broken.where}: ${broken.message}\n`);
    return 1;
  }
  if (diverged) {
    const d = diverged.divergence!;
    const who = d.exact || d.objects.length === 1 ? `: ${d.objects[0]}` : d.objects.length ? `: one of ${d.objects.join(', ')}` : '';
    io.err(`sluice replay: batch ${diverged.boundary.batch} differs from the recording${who}\n`);
    return 1;
  }
  if (batches + snapshots === 0) io.err(`sluice replay: warning: no batch replayed${a.until !== undefined ? ` up to batch ${a.until}` : ''}\n`);
  const result = nodeResult(replay.state);
  io.out((a.format === 'json' ? '' : '\n') + render(a.format, result));
  if (a.verify) {
    const what = `${plural(batches, 'batch', 'es')}${snapshots ? ` and ${plural(snapshots, 'snapshot')}` : ''}`;
    const how = a.key ? `authentic: every boundary signed with the key in ${a.keyFile}`
      : `integrity only: CRCs and the digest chain${replay.signed ? '; the log is signed, pass --key to check it' : ''}; without a key, a log edited and sealed again would pass too`;
    if (incomplete) {
      io.err(`sluice replay: verified ${what} (${how}), but the log is incomplete: ${incomplete}\n`);
      return 1;
    }
    io.err(`sluice replay: verified ${what} (${how})\n`);
  }
  return a.pinRoot === undefined ? 0 : applyTo(a.pinRoot, result.store, io);
}

/** Brings the maps pinned under pinRoot to desired; says what changed on stderr, beside the other status lines. */
function applyTo(pinRoot: string, desired: MapStore, io: Io): number {
  try {
    const live = PinnedStore.open(pinRoot);
    try {
      const diff = reconcile(live, desired);
      live.apply(diff);
      const changed = diff.sections.map((s) => `${s.map.name} +${upsertCount(s)} -${deleteCount(s)}`);
      io.err(`sluice replay: applied to ${pinRoot}: ${changed.length === 0 ? 'no change' : `${changed.join(', ')} (${opCount(diff)} ops)`}\n`);
    } finally {
      live.close();
    }
    return 0;
  } catch (e) {
    return failed('replay --apply', e, io, false);
  }
}

function show(s: ReplayStep, format: Format, io: Io): void {
  if (s.type === 'warning') return io.err(`sluice replay: ${s.incomplete ? 'incomplete' : 'warning'}: ${s.where}: ${s.message}\n`);
  if (s.type === 'failed') return; // said once, at the end
  if (s.type === 'restart') return io.out(format === 'json' ? `${JSON.stringify({ restart: s.where })}\n` : `${s.where}: the agent restarted; replay starts again from empty maps\n`);
  io.out(format === 'json' ? `${JSON.stringify(batchJson(s))}\n` : batchText(s));
}

const plural = (n: number, what: string, suffix = 's') => `${n} ${what}${n === 1 ? '' : suffix}`;

const eventLabel = (e: KubeEvent) => {
  if (e.type === 'synced') return 'synced';
  const key = keyOf(e.object);
  const { namespace, name } = e.object.metadata;
  return `${e.type} ${key ? labelOf(key.ref) : `${e.object.kind} ${namespace ? `${namespace}/` : ''}${name ?? '?'}`}`;
};

const mapText = (m: MapChange) => [m.added && `+${m.added}`, m.deleted && `-${m.deleted}`, m.changed && `~${m.changed}`].filter(Boolean).join(' ');

function batchText(s: BatchStep): string {
  const b = s.boundary, c = s.compiled;
  const maps = c.maps.length === 0 ? 'no change' : c.maps.map((m) => `${m.map} ${mapText(m)}`).join(', ');
  const head = b.type === 'snapshot'
    ? `snapshot after batch ${b.batch}: ${plural(s.events.length, 'object')}`
    : `batch ${b.batch}: ${plural(s.events.length, 'event')}`;
  const lines = [`${head}${b.at ? ` (${b.at})` : ''}; ${maps}${s.verified ? '; verified' : ''}`];
  if (b.type === 'batch') lines.push(...s.events.map((e) => `  ${eventLabel(e)}`));
  lines.push(...c.rejected.map((r) => `  rejected ${r.object}  ${r.field === '' ? '' : `${r.field}: `}${r.reason}`));
  const d = s.divergence;
  if (d) {
    lines.push(`  DIFFERS from the recording: replayed ${c.digest.ops} ops sha256 ${c.digest.sha256}, recorded ${b.ops} ops sha256 ${b.sha256}`);
    if (d.maps.length) lines.push(`  maps that differ: ${d.maps.join(', ')}`);
    if (d.exact) lines.push(`  object: ${d.objects[0]} (the batch without its change gives the recorded diff)`);
    else if (d.objects.length === 1) lines.push(`  object: ${d.objects[0]} (the only change in the batch that touches those maps)`);
    else if (d.objects.length) lines.push(`  suspects: ${d.objects.join(', ')} (changes in the batch that touch those maps)`);
  }
  return lines.join('\n') + '\n';
}

function batchJson(s: BatchStep): object {
  const b = s.boundary, c = s.compiled;
  return {
    [b.type]: b.batch, at: b.at ?? null,
    events: s.events.map((e) => eventLabel(e)),
    rejected: c.rejected, maps: c.maps, ops: c.digest.ops, sha256: c.digest.sha256,
    recorded: { ops: b.ops, sha256: b.sha256 }, verified: s.verified ?? null, divergence: s.divergence ?? null,
  };
}

/** The view `sluice compile` prints, read from the replayed maps. Objects of other
 * kinds are not kept (sources watch only the six), so none is counted as ignored. */
function nodeResult(state: ReplayState): NodeResult {
  return { view: viewOf(state.store, { node: state.node, ...state.findings() }), store: state.store, ignored: 0 };
}
