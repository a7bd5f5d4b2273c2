// KubeEvent -> normalized record, keyed by the object's identity. Stateless:
// every upsert yields exactly one record for its key (the upsert when the
// object normalizes, else a delete), so the latest record per key is always
// the object's current contribution, whatever came before. A rejected update
// therefore removes what the object's last good state programmed, as a
// snapshot of the same cluster would (maps follow the current state only).
// Rejections and notes are items of their own; nothing is thrown.
//
// Written out rather than as mergeMap over each event's items: mergeMap
// subscribes to an inner observable per event, which at a full sync of
// 20,000 objects cost a quarter of normalizing them.
import { Observable, type OperatorFunction } from '../rx/rx.ts';
import { refKey } from '../encode/objectKey.ts';
import { isIgnored, normalize, refOf, type Note, type Rejection } from '../encode/records.ts';
import type { Record } from '../encode/schema.ts';
import type { KubeEvent } from '../sources/events.ts';

export type NormalizedEvent =
  | { type: 'record'; key: string; record: Record } // key: "kind/namespace/name", what latestByKey keys on
  | { type: 'synced' }
  | { type: 'rejected'; rejection: Rejection } // the object is left out of the maps (its record is a delete)
  | { type: 'note'; note: Note }; // valid, but part of it is not used

export const normalizeEvents = (): OperatorFunction<KubeEvent, NormalizedEvent> => (events) => new Observable<NormalizedEvent>((out) =>
  events.subscribe({
    next: (e) => {
      if (e.type === 'synced') out.next(e);
      else itemsOf(e, (item) => out.next(item));
    },
    error: (err) => out.error(err),
    complete: () => out.complete(),
  }));

function itemsOf(e: Extract<KubeEvent, { object: unknown }>, next: (item: NormalizedEvent) => void): void {
  if (isIgnored(e.object)) return; // a kind sluice does not read: not ours to reject either
  if (e.type === 'delete') {
    // A deletion needs only the identity; the last state may be anything.
    const ref = refOf(e.object);
    if (ref) next(record({ ...ref, op: 'delete' }));
    else for (const rejection of normalize(e.object).rejected) next({ type: 'rejected', rejection });
    return;
  }
  const n = normalize(e.object);
  for (const rejection of n.rejected) next({ type: 'rejected', rejection });
  for (const note of n.notes) next({ type: 'note', note });
  if (n.record) return next(record(n.record));
  const ref = refOf(e.object); // rejected, or valid with nothing to program
  if (ref) next(record({ ...ref, op: 'delete' }));
}

const record = (r: Record): NormalizedEvent => ({ type: 'record', key: refKey(r), record: r });
