// Adoption: the ops that turn what the maps hold into what they should hold.
// Both sides are read in key order, so one merge pass per map gives a diff in
// the compiler's order; entries that are already right get no op, which is
// what lets a restarted agent take over live maps without a flush.
import { MAPS } from '../abi/layouts.generated.ts';
import { encodeDiff, type MapDiff, type MapOps } from './mapDiff.ts';
import type { MapStore } from './store.ts';

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const pack = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Upserts for entries missing or different in live, deletes for entries only in live; compiler-owned maps only. */
export function reconcile(live: MapStore, desired: MapStore): MapDiff {
  const sections: MapOps[] = [];
  for (const map of [...MAPS].sort((a, b) => a.id - b.id)) {
    const have = live.entries(map.name), want = desired.entries(map.name);
    const upsertKeys: Uint8Array[] = [], upsertValues: Uint8Array[] = [], deleteKeys: Uint8Array[] = [];
    let i = 0, j = 0;
    while (i < have.length || j < want.length) {
      const c = i === have.length ? 1 : j === want.length ? -1 : Buffer.compare(have[i][0], want[j][0]);
      if (c < 0) deleteKeys.push(have[i++][0]);
      else if (c > 0 || !sameBytes(have[i][1], want[j][1])) {
        upsertKeys.push(want[j][0]);
        upsertValues.push(want[j][1]);
        if (c === 0) i++;
        j++;
      } else {
        i++;
        j++;
      }
    }
    sections.push({ map, upsertKeys: pack(upsertKeys), upsertValues: pack(upsertValues), deleteKeys: pack(deleteKeys) });
  }
  return encodeDiff(sections);
}
