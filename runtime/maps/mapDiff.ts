// A MapDiff as the compiler emits it: per map, sorted upserts and sorted
// deletes, keys and values packed back to back the way BPF_MAP_*_BATCH wants.
import type { MapLayout } from '../abi/mapLayout.ts';

export interface MapOps {
  readonly map: MapLayout;
  readonly upsertKeys: Uint8Array; // count * key size, sorted by key bytes
  readonly upsertValues: Uint8Array; // count * value size, in the same order
  readonly deleteKeys: Uint8Array; // count * key size, sorted by key bytes
}

export interface MapDiff {
  readonly sections: readonly MapOps[]; // ordered by map id, maps without ops left out
  readonly bytes: Uint8Array; // the compiler's encoding, for hashing and logs
}

export function upsertCount(ops: MapOps): number {
  return ops.upsertKeys.length / ops.map.key.size;
}

export function deleteCount(ops: MapOps): number {
  return ops.deleteKeys.length / ops.map.key.size;
}

export function opCount(diff: MapDiff): number {
  return diff.sections.reduce((n, s) => n + upsertCount(s) + deleteCount(s), 0);
}
