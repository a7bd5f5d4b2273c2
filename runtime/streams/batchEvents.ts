// Changes -> batches for the compiler, at most one per minSync, like
// kube-proxy's --min-sync-period (its BoundedFrequencyRunner).
//
// - Nothing comes out before the first { type: 'synced' }: no partial cluster
//   is ever programmed. The first batch, at 'synced', holds every change
//   before it: the whole cluster (possibly none at all, which is still a batch:
//   an empty cluster must clear what a previous run left in the maps).
// - After that, the first change after a quiet period goes out at once; the
//   changes within minSync of a batch wait and go together in the next one,
//   minSync after it. So 10,000 changes in one interval cost two compiles
//   (the first change, then the rest), not 10,000.
// - Changes that arrive in the same tick travel together: a relist's whole
//   difference, delivered synchronously, is one batch even when quiet.
// - When the source completes, what is pending goes out at the end of its
//   interval, then the output completes; a source that ends before 'synced'
//   gives nothing. Later 'synced' items are ignored. A batch due in the tick
//   the source completes in goes out at once: a source that ends at once (a
//   snapshot: its objects, then 'synced') gives its one batch synchronously.
// - An urgent change (urgent(item), asked of every change in arrival order,
//   before 'synced' too, so a stateful predicate sees them all) goes out at
//   once, with what is pending, whatever the interval: a new pod's address,
//   which NetworkPolicy isolates until the maps know it.
//
// A batch is a list in arrival order; latestByKey makes it a set of states.
//
// Written out rather than composed from auditTime and throttleTime: those arm
// a timer for every change (the tick) and another after every batch (the
// interval's end, pending or not), and on the agent's VM each timer that
// wakes the process costs about 0.3 ms of CPU, more than compiling a
// change. Here the tick is a microtask (asapScheduler), and a timer is armed
// only for a change that has to wait.
import { asapScheduler, asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export interface Synced { type: 'synced' }

const isSynced = (e: unknown): e is Synced => (e as Synced | null)?.type === 'synced';

export const batchEvents = <T>(minSync = 1000, scheduler: SchedulerLike = asyncScheduler, urgent: (item: T) => boolean = () => false): OperatorFunction<T | Synced, T[]> =>
  (events) => new Observable<T[]>((out) => {
    // State: the changes since the last batch; whether 'synced' has come;
    // when the last batch went; the flush scheduled, if any, and whether it
    // is the microtask; whether the source has completed (the output
    // completes after the flush).
    let pending: T[] = [];
    let synced = false;
    let last = -Infinity;
    let cut: Subscription | undefined;
    let asap = false; // cut is the microtask, not a timer
    let done = false;

    const flush = () => {
      cut = undefined;
      const batch = pending;
      pending = [];
      last = scheduler.now();
      out.next(batch);
      if (done) out.complete();
    };
    const schedule = (now: boolean) => {
      if (!synced) return;
      if (now && cut && !asap) cut.unsubscribe(); // a timer would hold it: replace it
      else if (cut) return;
      // Bounded by minSync both ways, so a clock that jumps cannot hold a change longer.
      const wait = now ? 0 : Math.min(minSync, Math.max(0, last + minSync - scheduler.now()));
      asap = wait === 0;
      cut = asap ? asapScheduler.schedule(flush) : scheduler.schedule(flush, wait);
    };
    const sub = events.subscribe({
      next: (e) => {
        let now = false;
        if (!isSynced(e)) {
          pending.push(e);
          now = urgent(e);
        } else if (synced) return; // a repeated 'synced' changes nothing
        else synced = true; // the first batch is the sync, even when empty
        schedule(now);
      },
      error: (err) => out.error(err),
      complete: () => {
        done = true;
        if (!cut) return out.complete(); // nothing scheduled: before 'synced', or nothing pending
        if (!asap) return;
        cut.unsubscribe(); // nothing more can join this tick's batch
        flush();
      },
    });
    return () => {
      sub.unsubscribe();
      cut?.unsubscribe();
    };
  });
