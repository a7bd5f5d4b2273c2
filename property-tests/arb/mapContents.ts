import fc from 'fast-check';
import { MAPS } from '../../runtime/abi/layouts.generated.ts';
import { encodeDiff, type MapDiff } from '../../runtime/maps/mapDiff.ts';

/**
 * Contents of the compiler-owned maps as one diff of upserts: keys from a
 * pool of eight per map and values from a pool of three, so two draws share
 * keys, with equal and with different values.
 */
export const mapContents = (): fc.Arbitrary<MapDiff> =>
  fc.tuple(...MAPS.map(() => fc.uniqueArray(fc.tuple(fc.nat({ max: 7 }), fc.nat({ max: 2 })), { selector: ([k]) => k, maxLength: 8 })))
    .map((perMap) => encodeDiff(MAPS.map((map, i) => {
      const entries = [...perMap[i]].sort(([a], [b]) => a - b);
      const keys = new Uint8Array(entries.length * map.key.size), values = new Uint8Array(entries.length * map.value.size);
      entries.forEach(([k, v], j) => {
        keys[(j + 1) * map.key.size - 1] = k; // last byte: keys still sort by k
        values[j * map.value.size] = v + 1;
      });
      return { map, upsertKeys: keys, upsertValues: values, deleteKeys: new Uint8Array(0) };
    })));
