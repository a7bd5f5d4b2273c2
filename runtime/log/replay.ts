// Drives a replay: log items in, one step per batch (and warnings) out. The
// first header names the node (unless one is given); a file a new agent
// process began starts over from empty maps, as that agent did; a rotated
// file's snapshot moves the state to the snapshot's (no change when nothing
// was lost), so replay can start at any file.
import type { KubeEvent } from '../sources/events.ts';
import { blame, type Divergence } from './blame.ts';
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
  | { type: 'warning'; message: string; where: string }
  | { type: 'restart'; where: string }; // a new agent process: replay starts from empty maps

export class Replay {
  /** Set by the first header. */
  state: ReplayState | undefined;
  recordedNode: string | undefined;
  /** No more items are wanted: --until reached, or a divergence found. */
  done = false;
  /** The last batch replayed. */
  lastBatch: number | undefined;
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
        return [item];
      case 'event':
        this.events.push(item);
        return [];
      case 'header':
        return this.header(item.header, item.where);
      case 'batch':
        return this.boundary(item.boundary, item.where);
    }
  }

  /** Warnings about what the log left unfinished. */
  end(): ReplayStep[] {
    return this.done ? [] : this.dropEvents('the log ends');
  }

  private header(h: LogHeader, where: string): ReplayStep[] {
    const out = this.dropEvents('a new file begins');
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

  private dropEvents(why: string): ReplayStep[] {
    if (this.events.length === 0) return [];
    const { where } = this.events[0];
    const n = this.events.length;
    this.events = [];
    return [{ type: 'warning', where, message: `${n} event${n === 1 ? '' : 's'} without a batch boundary before ${why}: that batch never completed live; not replayed` }];
  }
}
