// A whole set of objects -> records, as a snapshot or a relist gives them.
import { compareUtf8 } from './compareUtf8.ts';
import { isIgnored, normalize, refOf, type Normalized, type Note, type Rejection } from './records.ts';
import type { Upsert } from './schema.ts';

export interface NormalizedSet {
  records: Upsert[]; // sorted by (kind, namespace, name)
  rejected: Rejection[]; // sorted by compareFindings
  notes: Note[]; // sorted by compareFindings
}

/** Normalizes every object; of two with the same kind, namespace and name, the later wins (noted). */
export function normalizeAll(objects: readonly unknown[]): NormalizedSet {
  const byObject = new Map<string, Normalized>();
  const unnamed: Normalized[] = []; // no valid name, so no identity to be a duplicate of
  for (const obj of objects) {
    if (isIgnored(obj)) continue;
    const n = normalize(obj);
    if (refOf(obj) === undefined) unnamed.push(n);
    else {
      if (byObject.has(n.object)) {
        n.notes.push({ object: n.object, field: '', note: 'appears more than once in the input; the last copy is used' });
      }
      byObject.set(n.object, n);
    }
  }
  const all = [...byObject.values(), ...unnamed];
  return {
    records: all.flatMap((n) => n.record ?? []).sort(compareRecords),
    rejected: all.flatMap((n) => n.rejected).sort(compareFindings),
    notes: all.flatMap((n) => n.notes).sort(compareFindings),
  };
}

function compareRecords(a: Upsert, b: Upsert): number {
  return a.kind - b.kind || compareUtf8(a.namespace, b.namespace) || compareUtf8(a.name, b.name);
}

type Finding = { object: string; field: string; reason?: string; note?: string };

/** A total order on rejections and notes, for output that does not depend on input order. */
export function compareFindings(a: Finding, b: Finding): number {
  return compareUtf8(a.object, b.object) || compareUtf8(a.field, b.field) ||
    compareUtf8(a.reason ?? a.note ?? '', b.reason ?? b.note ?? '');
}
