// A source that ends at once (a snapshot's objects, a recorded batch's
// events, each followed by 'synced') through the one pipeline
// (recordBatches.ts), collected: the latest record per object in key order,
// and the rejections and notes, sorted.
import { type Observable } from '../rx/rx.ts';
import { compareFindings, type Note, type Rejection } from '../encode/records.ts';
import type { Record, Upsert } from '../encode/schema.ts';
import type { KubeEvent } from '../sources/events.ts';
import { recordBatches } from './recordBatches.ts';

export interface RecordSet {
  /** Upserts, and deletes for objects that were rejected or deleted. */
  records: Record[];
  rejected: Rejection[];
  notes: Note[];
}

export function recordsOf(events: Observable<KubeEvent>): RecordSet {
  const rejected: Rejection[] = [], notes: Note[] = [];
  let records: Record[] | undefined;
  events.pipe(recordBatches(0, { onRejected: (r) => rejected.push(r), onNote: (n) => notes.push(n) }))
    .subscribe((batch) => (records = batch)).unsubscribe();
  if (!records) throw new Error('recordsOf: the source did not end in synced at once');
  return { records, rejected: rejected.sort(compareFindings), notes: notes.sort(compareFindings) };
}

export const upserts = (records: readonly Record[]): Upsert[] => records.filter((r): r is Upsert => r.op === 'upsert');
