// KubeEvent -> normalized record, keyed by the object's identity. Stateless:
// every upsert yields exactly one record for its key (the upsert when the
// object normalizes, else a delete), so the latest record per key is always
// the object's current contribution, whatever came before. A rejected update
// therefore removes what the object's last good state programmed, as a
// snapshot of the same cluster would (maps follow the current state only).
// Rejections and notes are items of their own; nothing is thrown.
import { mergeMap, type OperatorFunction } from 'rxjs';
import { refKey } from '../encode/objectKey.ts';
import { isIgnored, normalize, refOf, type Note, type Rejection } from '../encode/records.ts';
import type { Record } from '../encode/schema.ts';
import type { KubeEvent } from '../sources/events.ts';

export type NormalizedEvent =
  | { type: 'record'; key: string; record: Record } // key: "kind/namespace/name", what latestByKey keys on
  | { type: 'synced' }
  | { type: 'rejected'; rejection: Rejection } // the object is left out of the maps (its record is a delete)
  | { type: 'note'; note: Note }; // valid, but part of it is not used

export const normalizeEvents = (): OperatorFunction<KubeEvent, NormalizedEvent> =>
  mergeMap((e: KubeEvent): NormalizedEvent[] => (e.type === 'synced' ? [e] : itemsOf(e)));

function itemsOf(e: Extract<KubeEvent, { object: unknown }>): NormalizedEvent[] {
  if (isIgnored(e.object)) return []; // a kind sluice does not read: not ours to reject either
  const ref = refOf(e.object);
  if (e.type === 'delete') {
    // A deletion needs only the identity; the last state may be anything.
    return ref ? [record({ ...ref, op: 'delete' })] : rejectionsOf(normalize(e.object).rejected);
  }
  const n = normalize(e.object);
  const out: NormalizedEvent[] = [...rejectionsOf(n.rejected), ...n.notes.map((note) => ({ type: 'note' as const, note }))];
  if (n.record) out.push(record(n.record));
  else if (ref) out.push(record({ ...ref, op: 'delete' })); // rejected, or valid with nothing to program
  return out;
}

const record = (r: Record): NormalizedEvent => ({ type: 'record', key: refKey(r), record: r });
const rejectionsOf = (rs: Rejection[]): NormalizedEvent[] => rs.map((rejection) => ({ type: 'rejected', rejection }));
