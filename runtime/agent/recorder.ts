// --record as the agent runs it: a debugging aid that never stops the
// dataplane. The first failure (the directory locked by another agent,
// unwritable, a full disk) stops recording for good: the writer is closed
// (a full disk's log ends incomplete, with no end record), stopped() is told
// why once, and every later event and batch is dropped.
import { EventLogWriter, type EventLogOptions } from '../log/eventLogWriter.ts';
import type { MapDiff } from '../maps/mapDiff.ts';
import type { KubeEvent } from '../sources/events.ts';

export class Recorder {
  private writer: EventLogWriter | undefined;
  private readonly stopped: (why: string) => void;

  /** Opens dir's next file; a failure is reported to stopped() (after the constructor returns, not thrown). */
  constructor(dir: string, opts: EventLogOptions, stopped: (why: string) => void) {
    this.stopped = stopped;
    try {
      this.writer = new EventLogWriter(dir, opts);
    } catch (e) {
      queueMicrotask(() => stopped(reason(e)));
    }
  }

  get recording(): boolean {
    return this.writer !== undefined;
  }

  event(e: KubeEvent): void {
    this.guard((w) => w.event(e));
  }

  batch(n: number, diff: MapDiff): void {
    this.guard((w) => w.batch(n, diff));
  }

  /** Ends the log with its end record (a clean stop). */
  close(): void {
    this.guard((w) => w.close());
    this.writer = undefined;
  }

  private guard(fn: (w: EventLogWriter) => void): void {
    const w = this.writer;
    if (!w) return;
    try {
      fn(w);
    } catch (e) {
      this.writer = undefined;
      try {
        w.abandon();
      } catch {
        // closing what already failed: the first error is the one to report
      }
      this.stopped(reason(e));
    }
  }
}

const reason = (e: unknown) => (e as Error).message ?? String(e);
