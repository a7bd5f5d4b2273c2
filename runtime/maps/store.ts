// Where map contents live. The pinned-map store (bpf(2)) and the in-memory
// store share this interface, so compile, replay and tests run without root.
import { MAPS, type MapName } from '../abi/layouts.generated.ts';
import type { MapLayout } from '../abi/mapLayout.ts';
import type { MapDiff } from './mapDiff.ts';

export interface MapStore {
  /** Applies every op; a partial failure throws with .applied set. */
  apply(diff: MapDiff): { applied: number };
  lookup(map: MapName, key: Uint8Array): Uint8Array | undefined;
  /** Entries in key-byte order. */
  entries(map: MapName): [key: Uint8Array, value: Uint8Array][];
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

const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * Keys and values are held as latin1 strings: one char per byte, so string
 * order is byte order. A section of a diff is turned into two strings, and
 * each entry into two slices of them: a conversion or a view per entry (a
 * full sync has 100,000) cost more than the rest of the apply, and 100 bytes
 * of heap each.
 */
export class MemoryStore implements MapStore {
  private readonly maps = new Map<MapName, Map<string, string>>(MAPS.map((m) => [m.name, new Map()]));

  apply(diff: MapDiff): { applied: number } {
    let applied = 0;
    for (const s of diff.sections) {
      const m = this.maps.get(s.map.name)!;
      const ks = s.map.key.size, vs = s.map.value.size;
      const keys = latin1(s.upsertKeys), values = latin1(s.upsertValues);
      for (let i = 0; i * ks < keys.length; i++, applied++) m.set(keys.slice(i * ks, i * ks + ks), values.slice(i * vs, i * vs + vs));
      const gone = latin1(s.deleteKeys);
      for (let i = 0; i * ks < gone.length; i++, applied++) {
        // The kernel answers ENOENT here too: a diff that deletes a missing key is wrong.
        if (!m.delete(gone.slice(i * ks, i * ks + ks))) {
          throw new StoreError(`delete ${s.map.name}: key ${Buffer.from(s.deleteKeys.subarray(i * ks, i * ks + ks)).toString('hex')} not present`, applied);
        }
      }
    }
    return { applied };
  }

  lookup(map: MapName, key: Uint8Array): Uint8Array | undefined {
    const v = this.maps.get(map)?.get(latin1(key));
    return v === undefined ? undefined : bytesOf(v);
  }

  entries(map: MapName): [Uint8Array, Uint8Array][] {
    const m = this.maps.get(map);
    if (!m) throw new Error(`no map named ${map}`);
    return [...m.keys()].sort().map((k) => [bytesOf(k), bytesOf(m.get(k)!)]);
  }
}
