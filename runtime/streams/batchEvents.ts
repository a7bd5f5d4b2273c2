// Changes -> batches for the compiler, one per minSync with bursts of two,
// like kube-proxy's --min-sync-period (its BoundedFrequencyRunner, burstSyncs
// 2: a token bucket of two, refilled one token per minSync).
//
// - Nothing comes out before the first { type: 'synced' }: no partial cluster
//   is ever programmed. The first batch, at 'synced', holds every change
//   before it: the whole cluster (possibly none at all, which is still a batch:
//   an empty cluster must clear what a previous run left in the maps).
// - After that, a change goes out at once while the bucket holds a token;
//   otherwise it waits for the next token (at most minSync), and the changes
//   meanwhile go with it. So a change a second at --min-sync 1s is a batch
//   each, at once, however the two clocks drift, and 10,000 changes in one
//   interval cost three compiles (two at once, then the rest), not 10,000.
// - Changes that arrive in the same tick travel together: a relist's whole
//   difference, delivered synchronously, is one batch even when quiet.
// - When the source completes, what is pending goes out when its token
//   comes, then the output completes; a source that ends before 'synced'
//   gives nothing. Later 'synced' items are ignored. A batch due in the tick
//   the source completes in goes out at once: a source that ends at once (a
//   snapshot: its objects, then 'synced') gives its one batch synchronously.
// - An urgent change (urgent(item), asked of every change in arrival order,
//   before 'synced' too, so a stateful predicate sees them all) goes out at
//   once, with what is pending, whatever the interval: a new pod's address,
//   which NetworkPolicy isolates until the maps know it.
//
// A batch is a list in arrival order; latestByKey makes it a set of states.
// Every batch takes a token when there is one, the first and urgent ones too.
//
// Written out rather than composed from auditTime and throttleTime: those arm
// a timer for every change (the tick) and another after every batch (the
// interval's end, pending or not), and on the agent's VM each timer that
// wakes the process costs about 0.3 ms of CPU, more than compiling a
// change. Here the tick is a microtask (asapScheduler), and a timer is armed
// only for a change that has to wait.
import { asapScheduler, asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from '../rx/rx.ts';

export interface Synced { type: 'synced' }

const isSynced = (e: unknown): e is Synced => (e as Synced | null)?.type === 'synced';

/** kube-proxy's burstSyncs. */
const BURST = 2;

export const batchEvents = <T>(minSync = 1000, scheduler: SchedulerLike = asyncScheduler, urgent: (item: T) => boolean = () => false): OperatorFunction<T | Synced, T[]> =>
  (events) => new Observable<T[]>((out) => {
    // State: the changes since the last batch; whether 'synced' has come;
    // the bucket, in ms of credit (minSync a token), as of creditAt; the
    // flush scheduled, if any, and whether it is the microtask; whether the
    // source has completed (the output completes after the flush).
    let pending: T[] = [];
    let synced = false;
    let credit = BURST * minSync;
    let creditAt = scheduler.now();
    // Bounded both ways, so a clock that jumps cannot hold a change longer than minSync.
    const creditNow = () => Math.min(BURST * minSync, Math.max(0, credit + scheduler.now() - creditAt));
    let cut: Subscription | undefined;
    let asap = false; // cut is the microtask, not a timer
    let done = false;

    const flush = () => {
      cut = undefined;
      const batch = pending;
      pending = [];
      credit = Math.max(0, creditNow() - minSync);
      creditAt = scheduler.now();
      out.next(batch);
      if (done) out.complete();
    };
    const schedule = (now: boolean) => {
      if (!synced) return;
      if (now && cut && !asap) cut.unsubscribe(); // a timer would hold it: replace it
      else if (cut) return;
      const wait = now ? 0 : Math.max(0, minSync - creditNow());
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
