// What a log records of a diff, and what replay recomputes to compare: the
// sha256 of the compiler's bytes, the op count, and a digest per map so a
// divergence can be narrowed to the maps (and then objects) it is in.
import { createHash } from 'node:crypto';
import { deleteCount, opCount, upsertCount, type MapDiff } from '../maps/mapDiff.ts';
import type { MapDigests } from './format.ts';

export interface DiffDigest { ops: number; sha256: string; maps: MapDigests }

export function digestOf(diff: MapDiff): DiffDigest {
  const maps: MapDigests = {};
  for (const s of diff.sections) {
    const h = createHash('sha256').update(s.upsertKeys).update(s.upsertValues).update(s.deleteKeys);
    maps[s.map.name] = [upsertCount(s), deleteCount(s), h.digest('hex').slice(0, 16)];
  }
  return { ops: opCount(diff), sha256: createHash('sha256').update(diff.bytes).digest('hex'), maps };
}

/** Maps whose upserts, deletes or digest differ between two digests, in name order. */
export function mapsThatDiffer(a: MapDigests, b: MapDigests): string[] {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.filter((m) => String(a[m]) !== String(b[m]));
}
