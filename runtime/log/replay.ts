// Drives a replay: log items in, one step per batch (and warnings) out. The
// first header names the node (unless one is given); a file a new agent
// process began starts over from empty maps, as that agent did; a rotated
// file's snapshot moves the state to the snapshot's (no change when nothing
// was lost), so replay can start at any file.
//
// With verify, the log must be whole and unchanged, not just replay to the
// recorded hashes: the first warning that is not about the log stopping
// short (a damaged or skipped record, a broken chain, a missing or
// renumbered file, batches out of order) is a failure, and so is, with a
// key, a boundary whose mac is missing or wrong. A log whose last file has
// no end record is incomplete.
import type { KubeEvent } from '../sources/events.ts';
import { blame, type Divergence } from './blame.ts';
import { macMatches, type Seal } from './chain.ts';
import { mapsThatDiffer } from './digest.ts';
import type { BatchBoundary, LogHeader, LogItem, SnapshotBoundary } from './format.ts';
import { ReplayState, type Compiled } from './replayState.ts';

export interface ReplayOptions {
  /** Compile for this node; undefined: the one the log was recorded for. */
  node?: string;
  /** Compare each diff with the recorded hash; stop at the first that differs. */
  verify?: boolean;
  /** Stop after this batch. */
  until?: number;
  /** With verify: every boundary must carry this key's mac. */
  key?: Uint8Array;
}

export interface BatchStep {
  type: 'batch';
  boundary: BatchBoundary | SnapshotBoundary;
  where: string;
  events: KubeEvent[];
  compiled: Compiled;
  /** With verify: whether the hash matched. */
  verified?: boolean;
  divergence?: Divergence;
}

export type ReplayStep =
  | BatchStep
  | { type: 'warning'; message: string; where: string; incomplete?: true }
  | { type: 'failed'; message: string; where: string } // with verify: the log is not whole, unchanged or authentic
  | { type: 'restart'; where: string }; // a new agent process: replay starts from empty maps

export class Replay {
  /** Set by the first header. */
  state: ReplayState | undefined;
  recordedNode: string | undefined;
  /** No more items are wanted: --until reached, or a divergence found. */
  done = false;
  /** The last batch replayed. */
  lastBatch: number | undefined;
  /** With verify: boundaries seen, and those without a mac (checked only with a key). */
  private seals = { seen: 0, unsigned: 0 };
  /** The last file read ended with its end record. */
  ended = false;
  private readonly opts: ReplayOptions;
  private events: { event: KubeEvent; where: string }[] = [];
  private fresh = true; // nothing replayed since the maps were empty

  constructor(opts: ReplayOptions) {
    this.opts = opts;
  }

  push(item: LogItem): ReplayStep[] {
    if (this.done) return [];
    switch (item.type) {
      case 'warning':
        return this.warned([item]);
      case 'event':
        this.events.push(item);
        return [];
      case 'header':
        this.ended = false;
        return this.warned(this.header(item.header, item.where));
      case 'batch': {
        const failed = this.unsigned(item.boundary, item.where);
        return failed ? this.warned([failed]) : this.warned(this.boundary(item.boundary, item.where));
      }
      case 'end': {
        this.ended = true;
        const failed = this.unsigned(item.end, item.where);
        return this.warned([...this.dropEvents('the end record', false), ...(failed ? [failed] : [])]);
      }
    }
  }

  /** With verify: every boundary read carried a mac (and there was one). */
  get signed(): boolean {
    return this.seals.seen > 0 && this.seals.unsigned === 0;
  }

  /** Warnings about what the log left unfinished; with verify, incomplete unless it ends with an end record. */
  end(): ReplayStep[] {
    if (this.done) return [];
    const out = this.dropEvents('the log ends');
    if (this.opts.verify && !this.ended && this.state) {
      out.push({ type: 'warning', where: 'the end of the log', incomplete: true, message: 'no clean-shutdown marker: the log is incomplete (its agent was killed, crashed, lost a write, or is still recording)' });
    }
    return out;
  }

  /** With verify, the first warning that is not about the log stopping short fails the replay. */
  private warned(steps: ReplayStep[]): ReplayStep[] {
    if (!this.opts.verify) return steps;
    const bad = steps.findIndex((s) => s.type === 'failed' || (s.type === 'warning' && !s.incomplete));
    if (bad < 0) return steps;
    this.done = true;
    const s = steps[bad] as { message: string; where: string };
    return [...steps.slice(0, bad), { type: 'failed', message: s.message, where: s.where }];
  }

  /** With a key: a failure when b's mac is missing or is not the key's. */
  private unsigned(b: Seal, where: string): ReplayStep | undefined {
    if (!this.opts.verify) return undefined;
    this.seals.seen++;
    if (b.mac === undefined) this.seals.unsigned++;
    if (!this.opts.key) return undefined;
    if (b.mac === undefined) return { type: 'failed', where, message: 'not signed: the log was recorded without --record-key, or the mac was stripped' };
    if (!macMatches(this.opts.key, b.chain, b.mac)) return { type: 'failed', where, message: 'the mac does not match the key: the log was changed and sealed again, or signed with another key' };
    return undefined;
  }

  private header(h: LogHeader, where: string): ReplayStep[] {
    const out = this.dropEvents(h.start === 'empty' ? 'a new agent\'s file begins' : 'a rotated file begins', h.start === 'empty');
    if (!this.state) {
      this.recordedNode = h.node;
      this.state = new ReplayState(this.opts.node ?? h.node);
      return out;
    }
    if (h.node !== this.recordedNode) out.push({ type: 'warning', where, message: `recorded for node ${h.node}, the files before for ${this.recordedNode}` });
    if (h.start === 'empty' && !this.fresh) {
      this.state.reset();
      this.fresh = true;
      out.push({ type: 'restart', where });
    }
    return out;
  }

  private boundary(b: BatchBoundary | SnapshotBoundary, where: string): ReplayStep[] {
    const out: ReplayStep[] = [];
    if (this.opts.until !== undefined && b.batch > this.opts.until) {
      this.done = true;
      return out;
    }
    if (!this.state) throw new Error(`${where}: a boundary before any header`); // readLog starts every file with one
    const expected = this.lastBatch === undefined || this.fresh ? undefined : b.type === 'batch' ? this.lastBatch + 1 : this.lastBatch;
    if (expected !== undefined && b.batch !== expected) {
      out.push({ type: 'warning', where, message: `${b.type} ${b.batch} follows batch ${this.lastBatch} (a file missing, or out of order?)` });
    }
    const events = this.events.map((e) => e.event);
    this.events = [];
    const compiled = b.type === 'batch' ? this.state.batch(events) : this.state.snapshot(events);
    const step: BatchStep = { type: 'batch', boundary: b, where, events, compiled };
    if (b.type === 'snapshot' && !this.fresh && compiled.maps.length > 0) {
      out.push({ type: 'warning', where, message: `the snapshot after batch ${b.batch} differs from the replayed state: events were lost between files` });
    }
    if (this.opts.verify) {
      step.verified = compiled.digest.sha256 === b.sha256;
      if (!step.verified) {
        step.divergence = b.type === 'batch'
          ? blame(this.state.node, this.state.recordsBeforeLastBatch(), compiled.changes, b, compiled.digest)
          : { maps: mapsThatDiffer(b.maps, compiled.digest.maps), objects: [], exact: false };
        this.done = true;
      }
    }
    out.push(step);
    this.fresh = false;
    this.lastBatch = b.batch;
    if (this.opts.until !== undefined && b.batch >= this.opts.until) this.done = true;
    return out;
  }

  /** incomplete: the log stops short there (a crash); else the events cannot be there in a log as written. */
  private dropEvents(why: string, incomplete = true): ReplayStep[] {
    if (this.events.length === 0) return [];
    const { where } = this.events[0];
    const n = this.events.length;
    this.events = [];
    return [{ type: 'warning', where, ...(incomplete ? { incomplete } : {}), message: `${n} event${n === 1 ? '' : 's'} without a batch boundary before ${why}: that batch never completed live; not replayed` }];
  }
}
