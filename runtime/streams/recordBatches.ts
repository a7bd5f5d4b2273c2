// The one pipeline from objects to records: every source (the API server, a
// snapshot file, a recorded log) goes through it, and every command that
// turns objects into records uses it (the agent, compile, apply, explain,
// the testbed, replay). Each raw event is handed to onEvent (recorded,
// counted) before it is normalized; rejections and notes go to their hooks
// as they come; records are batched (nothing before 'synced', then at most
// one batch per minSync, but at once for a Pod's new address while the
// cluster has a NetworkPolicy: batchEvents, PodAddressUrgency) and reduced to
// the latest per object in key order (latestByKey). The agent holds the
// records it does not read as bytes until their batch (holdRecords.ts);
// every other command gets objects. Everything from an event's arrival to its
// batch leaving is synchronous, so the events handed to onEvent since the
// last batch are exactly those this batch holds: what the event log records
// as one batch, and what `sluice replay` cuts. A source that ends at once
// (recordsOf.ts) gives its one batch at once.
import { asyncScheduler, defer, filter, map, tap, type OperatorFunction, type SchedulerLike } from '../rx/rx.ts';
import type { Note, Rejection } from '../encode/records.ts';
import type { Held, Record, Upsert } from '../encode/schema.ts';
import type { KubeEvent } from '../sources/events.ts';
import { batchEvents } from './batchEvents.ts';
import { RecordChunks } from './holdRecords.ts';
import { latestByKey } from './latestByKey.ts';
import { PodAddressUrgency } from './podAddressUrgency.ts';
import { normalizeEvents, type NormalizedEvent } from './normalizeEvents.ts';

export interface BatchHooks {
  onEvent?(e: KubeEvent): void;
  onRejected?(r: Rejection): void;
  onNote?(n: Note): void;
}

type Batched = Extract<NormalizedEvent, { type: 'record' | 'synced' }>;

const batches = <H>(minSyncMs: number, hooks: BatchHooks, scheduler: SchedulerLike, hold: () => (r: Record) => H): OperatorFunction<KubeEvent, H[]> =>
  (events$) => events$.pipe(
    tap((e) => hooks.onEvent?.(e)),
    normalizeEvents(),
    tap((e) => {
      if (e.type === 'rejected') hooks.onRejected?.(e.rejection);
      else if (e.type === 'note') hooks.onNote?.(e.note);
    }),
    filter((e): e is Batched => e.type === 'record' || e.type === 'synced'),
    (records) => defer(() => {
      // One of each per subscription: urgency learns the cluster from the start.
      const urgency = new PodAddressUrgency(), held = hold();
      return records.pipe(
        map((e) => (e.type === 'synced' ? e : { key: e.key, urgent: urgency.urgent(e.key, e.record), record: held(e.record) })),
        batchEvents<{ key: string; urgent: boolean; record: H }>(minSyncMs, scheduler, (e) => e.urgent),
      );
    }),
    latestByKey((e) => e.key),
    map((batch) => batch.map((e) => e.record)),
  );

/** Batches of records, each an object. */
export const recordBatches = (minSyncMs: number, hooks: BatchHooks = {}, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<KubeEvent, Record[]> =>
  batches(minSyncMs, hooks, scheduler, () => (r) => r);

/** Batches in which only the upserts keep() takes are objects; the rest wait as bytes. */
export const heldBatches = (minSyncMs: number, keep: (r: Upsert) => boolean, hooks: BatchHooks = {}, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<KubeEvent, Held[]> =>
  batches(minSyncMs, hooks, scheduler, () => {
    const chunks = new RecordChunks(keep);
    return (r) => chunks.hold(r);
  });
