// The agent's event pipeline, source to compiler input: each raw event is
// handed to onEvent (recorded, counted) before it is normalized; rejections go
// to onRejected as they come; records are batched (nothing before 'synced',
// then at most one batch per minSync: batchEvents) and reduced to the latest
// per object in key order (latestByKey). Everything from an event's arrival to
// its batch leaving is synchronous, so the events handed to onEvent since the
// last batch are exactly those this batch holds: what the event log records as
// one batch, and what `sluice replay` cuts (replayState.ts changesOf runs the
// same normalizeEvents and latestByKey on them).
import { asyncScheduler, filter, map, tap, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { Rejection } from '../encode/records.ts';
import type { Record } from '../encode/schema.ts';
import type { KubeEvent } from '../sources/events.ts';
import { batchEvents } from '../streams/batchEvents.ts';
import { latestByKey } from '../streams/latestByKey.ts';
import { normalizeEvents, type NormalizedEvent } from '../streams/normalizeEvents.ts';

export interface BatchHooks {
  onEvent(e: KubeEvent): void;
  onRejected(r: Rejection): void;
}

type Batched = Extract<NormalizedEvent, { type: 'record' | 'synced' }>;

export const recordBatches = (minSyncMs: number, hooks: BatchHooks, scheduler: SchedulerLike = asyncScheduler): OperatorFunction<KubeEvent, Record[]> =>
  (events$) => events$.pipe(
    tap((e) => hooks.onEvent(e)),
    normalizeEvents(),
    tap((e) => e.type === 'rejected' && hooks.onRejected(e.rejection)),
    filter((e): e is Batched => e.type === 'record' || e.type === 'synced'),
    batchEvents<Extract<Batched, { type: 'record' }>>(minSyncMs, scheduler),
    latestByKey((e) => e.key),
    map((batch) => batch.map((e) => e.record)),
  );
