// Where map contents live. The pinned-map store (bpf(2)) and the in-memory
// store share this interface, so compile, replay and tests run without root.
import { MAPS, type MapName } from '../abi/layouts.generated.ts';
import type { MapLayout } from '../abi/mapLayout.ts';
import type { MapDiff } from './mapDiff.ts';
import { PackedMap } from './packedMap.ts';

export interface MapStore {
  /** Applies every op; a partial failure throws with .applied set. */
  apply(diff: MapDiff): { applied: number };
  lookup(map: MapName, key: Uint8Array): Uint8Array | undefined;
  /** Entries in key-byte order. */
  entries(map: MapName): [key: Uint8Array, value: Uint8Array][];
  /** How many entries the map holds. */
  count(map: MapName): number;
  /**
   * Told after a reconcile to an image went through: each map holds exactly
   * the image's entries, counts(map) (none where counts has no entry). A
   * store that counts its maps itself has no use for it.
   */
  reconciled?(counts: ReadonlyMap<MapName, number>): void;
}

/** A write to the maps that stopped part way: applied ops went through before it. */
export class StoreError extends Error {
  readonly applied: number;
  constructor(message: string, applied: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
    this.applied = applied;
  }
}

export function layoutOf(map: MapName): MapLayout {
  const l = MAPS.find((m) => m.name === map);
  if (!l) throw new Error(`no map named ${map}`);
  return l;
}

/** Maps in memory, for --dry-run, compile and replay: each a PackedMap (packedMap.ts), since as written a full sync's come to 100 MB. */
export class MemoryStore implements MapStore {
  private readonly maps = new Map<MapName, PackedMap>(MAPS.map((m) => [m.name, new PackedMap(m.key.size, m.value.size)]));

  apply(diff: MapDiff): { applied: number } {
    let applied = 0;
    for (const s of diff.sections) {
      const m = this.maps.get(s.map.name)!, ks = s.map.key.size;
      m.upsert(s.upsertKeys, s.upsertValues);
      applied += s.upsertKeys.length / ks;
      const deleted = m.remove(s.deleteKeys);
      applied += deleted;
      // The kernel answers ENOENT here too: a diff that deletes a missing key is wrong.
      if (deleted * ks < s.deleteKeys.length) {
        throw new StoreError(`delete ${s.map.name}: key ${Buffer.from(s.deleteKeys.subarray(deleted * ks, deleted * ks + ks)).toString('hex')} not present`, applied);
      }
    }
    return { applied };
  }

  lookup(map: MapName, key: Uint8Array): Uint8Array | undefined {
    return this.maps.get(map)?.get(key);
  }

  entries(map: MapName): [Uint8Array, Uint8Array][] {
    return this.mapOf(map).entries();
  }

  count(map: MapName): number {
    return this.mapOf(map).size;
  }

  private mapOf(map: MapName): PackedMap {
    const m = this.maps.get(map);
    if (!m) throw new Error(`no map named ${map}`);
    return m;
  }
}
