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

const keyString = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Keys are held as latin1 strings: one char per byte, so string order is byte order. */
export class MemoryStore implements MapStore {
  private readonly maps = new Map<string, Map<string, Uint8Array>>(MAPS.map((m) => [m.name, new Map()]));

  apply(diff: MapDiff): { applied: number } {
    let applied = 0;
    for (const s of diff.sections) {
      const m = this.maps.get(s.map.name)!;
      const ks = s.map.key.size, vs = s.map.value.size;
      // One copy per section, each entry a view of it: a copy per entry (a
      // full sync has 100,000) costs an ArrayBuffer each.
      const values = s.upsertValues.slice();
      for (let i = 0; i * ks < s.upsertKeys.length; i++, applied++) {
        m.set(keyString(s.upsertKeys.subarray(i * ks, i * ks + ks)), values.subarray(i * vs, i * vs + vs));
      }
      for (let i = 0; i * ks < s.deleteKeys.length; i++, applied++) {
        // The kernel answers ENOENT here too: a diff that deletes a missing key is wrong.
        if (!m.delete(keyString(s.deleteKeys.subarray(i * ks, i * ks + ks)))) {
          throw new StoreError(`delete ${s.map.name}: key ${Buffer.from(s.deleteKeys.subarray(i * ks, i * ks + ks)).toString('hex')} not present`, applied);
        }
      }
    }
    return { applied };
  }

  lookup(map: MapName, key: Uint8Array): Uint8Array | undefined {
    return this.maps.get(map)?.get(keyString(key));
  }

  entries(map: MapName): [Uint8Array, Uint8Array][] {
    const m = this.maps.get(map);
    if (!m) throw new Error(`no map named ${map}`);
    return [...m.keys()].sort().map((k) => [Uint8Array.from(Buffer.from(k, 'latin1')), m.get(k)!]);
  }
}
