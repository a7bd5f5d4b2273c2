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
//   gives nothing. Later 'synced' items are ignored.
//
// A batch is a list in arrival order; latestByKey makes it a set of states.
import {
  asyncScheduler, auditTime, buffer, concat, connect, endWith, filter, ignoreElements, NEVER, share, skipWhile,
  takeUntil, throttleTime, type OperatorFunction, type SchedulerLike,
} from 'rxjs';

export interface Synced { type: 'synced' }

const isSynced = (e: unknown): e is Synced => (e as Synced | null)?.type === 'synced';

export const batchEvents = <T>(minSync = 1000, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<T | Synced, T[]> =>
  connect((events) => {
    // When to cut a batch: 'synced', then changes, each tick's worth once
    // (auditTime 0), at most once per minSync (throttle state: whether an
    // interval is running, and whether a change waits for its end).
    const cuts = events.pipe(
      skipWhile((e) => !isSynced(e)),
      filter((e, i) => i === 0 || !isSynced(e)), // a repeated 'synced' changes nothing
      auditTime(0, scheduler),
      throttleTime(minSync, scheduler, { leading: true, trailing: true }),
      share(),
    );
    const changes = events.pipe(filter((e): e is T => !isSynced(e)));
    // buffer state: the changes since the last cut. Its source never
    // completes (NEVER), so a source that ends early cannot flush a partial
    // cluster; the output ends when the cuts do, after their last flush.
    return concat(changes, NEVER).pipe(
      buffer(cuts),
      takeUntil(cuts.pipe(ignoreElements(), endWith(true))),
      filter((batch, i) => i === 0 || batch.length > 0), // the first is the sync, even when empty
    );
  });
