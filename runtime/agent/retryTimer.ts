// Something that failed is tried again by a timer: first after a second,
// then twice as long each time it fails again, at most 30 s; a success
// cancels the timer and starts over from a second. The agent keeps two: the
// apply retry (maps reconciled after a failed apply) and the interface retry
// (a discovery after an attach failed). The clock is a scheduler, so tests
// run it in virtual time.
import { asyncScheduler, type SchedulerLike, type Subscription } from '../rx/rx.ts';

export const RETRY_MS = { first: 1000, max: 30_000 };

export class RetryTimer {
  private readonly retry: () => void;
  private readonly clock: SchedulerLike;
  private readonly ms: { first: number; max: number };
  private timer: Subscription | undefined;
  private waitMs: number;

  /** retry runs when the timer fires (the agent queues it behind the batch being compiled). */
  constructor(retry: () => void, clock: SchedulerLike = asyncScheduler, ms = RETRY_MS) {
    this.retry = retry;
    this.clock = clock;
    this.ms = ms;
    this.waitMs = ms.first;
  }

  /** How long the retry that failed() arms next will wait. */
  get nextMs(): number {
    return this.waitMs;
  }

  /** Whether a retry is armed. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** It failed: the retry runs after nextMs (replacing one armed before), and the next waits twice as long. */
  failed(): void {
    this.timer?.unsubscribe();
    this.timer = this.clock.schedule(() => {
      this.timer = undefined;
      this.retry();
    }, this.waitMs);
    this.waitMs = Math.min(this.waitMs * 2, this.ms.max);
  }

  /** It succeeded: no retry, and the next failure waits the first delay again. */
  succeeded(): void {
    this.stop();
    this.waitMs = this.ms.first;
  }

  stop(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }
}
