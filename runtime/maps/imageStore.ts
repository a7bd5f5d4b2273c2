// A compiled image (a diff from empty maps: Compiler.rebuild(), or a fresh
// compiler's first batch) read as a MapStore, for reconcile(): its upserts are
// already in key order, so nothing is copied or sorted. Read-only.
import { upsertCount, type MapDiff } from './mapDiff.ts';
import type { MapStore } from './store.ts';
import type { MapName } from '../abi/layouts.generated.ts';

export function imageStore(image: MapDiff): MapStore {
  const entries = (map: MapName): [Uint8Array, Uint8Array][] => {
    const s = image.sections.find((x) => x.map.name === map);
    if (!s) return [];
    if (s.deleteKeys.length > 0) throw new Error(`imageStore: the diff deletes from ${map}; an image only adds`);
    const ks = s.map.key.size, vs = s.map.value.size;
    return Array.from({ length: upsertCount(s) }, (_, i) => [s.upsertKeys.subarray(i * ks, (i + 1) * ks), s.upsertValues.subarray(i * vs, (i + 1) * vs)]);
  };
  return {
    entries,
    lookup: (map, key) => entries(map).find(([k]) => Buffer.compare(k, key) === 0)?.[1],
    count: (map) => {
      const s = image.sections.find((x) => x.map.name === map);
      return s ? upsertCount(s) : 0;
    },
    apply: () => {
      throw new Error('imageStore is read-only');
    },
  };
}
