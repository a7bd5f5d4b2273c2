// The one pipeline from objects to records: every source (the API server, a
// snapshot file, a recorded log) goes through it, and every command that
// turns objects into records uses it (the agent, compile, apply, explain,
// the testbed, replay). Each raw event is handed to onEvent (recorded,
// counted) before it is normalized; rejections and notes go to their hooks
// as they come; records are batched (nothing before 'synced', then at most
// one batch per minSync, but at once for a Pod's new address while the
// cluster has a NetworkPolicy: batchEvents, PodAddressUrgency) and reduced to
// the latest per object in key order (latestByKey). Everything from an event's arrival to its
// batch leaving is synchronous, so the events handed to onEvent since the
// last batch are exactly those this batch holds: what the event log records
// as one batch, and what `sluice replay` cuts. A source that ends at once
// (recordsOf.ts) gives its one batch at once.
import { asyncScheduler, defer, filter, map, tap, type OperatorFunction, type SchedulerLike } from '../rx/rx.ts';
import type { Note, Rejection } from '../encode/records.ts';
import type { Record } from '../encode/schema.ts';
import type { KubeEvent } from '../sources/events.ts';
import { batchEvents } from './batchEvents.ts';
import { latestByKey } from './latestByKey.ts';
import { PodAddressUrgency } from './podAddressUrgency.ts';
import { normalizeEvents, type NormalizedEvent } from './normalizeEvents.ts';

export interface BatchHooks {
  onEvent?(e: KubeEvent): void;
  onRejected?(r: Rejection): void;
  onNote?(n: Note): void;
}

type Batched = Extract<NormalizedEvent, { type: 'record' | 'synced' }>;

export const recordBatches = (minSyncMs: number, hooks: BatchHooks = {}, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<KubeEvent, Record[]> =>
  (events$) => events$.pipe(
    tap((e) => hooks.onEvent?.(e)),
    normalizeEvents(),
    tap((e) => {
      if (e.type === 'rejected') hooks.onRejected?.(e.rejection);
      else if (e.type === 'note') hooks.onNote?.(e.note);
    }),
    filter((e): e is Batched => e.type === 'record' || e.type === 'synced'),
    (records) => defer(() => {
      const urgency = new PodAddressUrgency(); // one per subscription: it learns the cluster from the start
      return records.pipe(batchEvents<Extract<Batched, { type: 'record' }>>(minSyncMs, scheduler, (e) => urgency.urgent(e.record)));
    }),
    latestByKey((e) => e.key),
    map((batch) => batch.map((e) => e.record)),
  );
