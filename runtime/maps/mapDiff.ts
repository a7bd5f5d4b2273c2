// A MapDiff as the compiler emits it: per map, sorted upserts and sorted
// deletes, keys and values packed back to back the way BPF_MAP_*_BATCH wants.
import { MAPS } from '../abi/layouts.generated.ts';
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

/** sl_be entries the diff deletes: backends gone (or moved to another id), whose sockets may be stale. */
export function backendsRemoved(diff: MapDiff): number {
  const s = diff.sections.find((x) => x.map.name === 'sl_be');
  return s ? deleteCount(s) : 0;
}

export function opCount(diff: MapDiff): number {
  return diff.sections.reduce((n, s) => n + upsertCount(s) + deleteCount(s), 0);
}

/** Reads the compiler's MapDiff encoding (see compiler/index.ts); the result views bytes. */
export function parseDiff(bytes: Uint8Array): MapDiff {
  const d = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sections: MapOps[] = [];
  let p = 8;
  for (let i = d.getUint32(4, true); i > 0; i--) {
    const id = d.getUint32(p, true), ks = d.getUint32(p + 4, true), vs = d.getUint32(p + 8, true);
    const nu = d.getUint32(p + 12, true), nd = d.getUint32(p + 16, true);
    const map = MAPS.find((m) => m.id === id);
    if (!map || map.key.size !== ks || map.value.size !== vs) {
      throw new Error(`compiler.wasm and runtime/abi disagree on map ${id} (key ${ks}, value ${vs}): rebuild both`);
    }
    p += 20;
    const upsertKeys = bytes.subarray(p, (p += nu * ks));
    const upsertValues = bytes.subarray(p, (p += nu * vs));
    const deleteKeys = bytes.subarray(p, (p += nd * ks));
    sections.push({ map, upsertKeys, upsertValues, deleteKeys });
  }
  return { sections, bytes };
}

/** A diff in the compiler's encoding, from sections already sorted the way parseDiff returns them. */
export function encodeDiff(sections: readonly MapOps[]): MapDiff {
  const kept = sections.filter((s) => s.upsertKeys.length + s.deleteKeys.length > 0).sort((a, b) => a.map.id - b.map.id);
  const size = kept.reduce((n, s) => n + 20 + s.upsertKeys.length + s.upsertValues.length + s.deleteKeys.length, 8);
  const bytes = new Uint8Array(size);
  const d = new DataView(bytes.buffer);
  d.setUint32(0, size, true);
  d.setUint32(4, kept.length, true);
  let p = 8;
  for (const s of kept) {
    [s.map.id, s.map.key.size, s.map.value.size, upsertCount(s), deleteCount(s)].forEach((v, i) => d.setUint32(p + 4 * i, v, true));
    p += 20;
    for (const part of [s.upsertKeys, s.upsertValues, s.deleteKeys]) {
      bytes.set(part, p);
      p += part.length;
    }
  }
  return parseDiff(bytes);
}
