// The compiler's problems (conflicts it resolved, backends left out) are read
// when its problemsVersion says they may have changed: reading them walks
// the whole cluster (2-5 ms at 5,000 Services), and an endpoint change of a
// Service without problems leaves the version alone. A Service whose
// problems keep changing would have them read every batch: so they are read
// at most every intervalMs, by the first batch that finds them due, else by
// a timer set minSyncMs past that, which a steady stream of batches always
// beats. Each problem not seen at the last read is reported once. The clock
// is a scheduler, so tests run it in virtual time.
import { asyncScheduler, type SchedulerLike, type Subscription } from '../rx/rx.ts';
import type { Rejection } from '../encode/records.ts';

export interface ProblemSource {
  problemsVersion(): number;
  problems(): Rejection[];
}

export interface ProblemsWatchOptions {
  compiler: ProblemSource;
  intervalMs: number;
  minSyncMs: number;
  /** A problem not there at the last read. */
  onNew(p: Rejection): void;
  /** How many there are, at each read (after its onNew calls). */
  onCount(n: number): void;
  /** Runs the timer's read (the agent queues it: the compiler answers one call at a time). */
  run?: (read: () => void) => void;
  clock?: SchedulerLike;
}

export class ProblemsWatch {
  private readonly o: ProblemsWatchOptions;
  private readonly clock: SchedulerLike;
  private timer: Subscription | undefined;
  private readVersion = -1;
  private readAt = -Infinity;
  private seen = new Set<string>(); // as last read, JSON

  constructor(o: ProblemsWatchOptions) {
    this.o = o;
    this.clock = o.clock ?? asyncScheduler;
  }

  /** After each batch: reads the problems now if they may have changed and are due, else arms the timer. */
  afterBatch(): void {
    if (this.o.compiler.problemsVersion() === this.readVersion) return;
    const wait = this.readAt + this.o.intervalMs - this.clock.now();
    if (wait <= 0) this.read();
    else this.timer ??= this.clock.schedule(() => (this.o.run ?? ((f) => f()))(() => this.read()), wait + this.o.minSyncMs);
  }

  stop(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private read(): void {
    this.stop();
    this.readVersion = this.o.compiler.problemsVersion();
    this.readAt = this.clock.now();
    const now = this.o.compiler.problems();
    const keys = new Set(now.map((p) => JSON.stringify(p)));
    for (const p of now) if (!this.seen.has(JSON.stringify(p))) this.o.onNew(p);
    this.seen = keys;
    this.o.onCount(now.length);
  }
}
