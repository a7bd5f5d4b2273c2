// Adoption: the ops that turn what the maps hold into what they should hold.
// Both sides are read in key order, so one merge pass per map gives a diff in
// the compiler's order; entries that are already right get no op, which is
// what lets a restarted agent take over live maps without a flush.
// reconcileImage does the same from pieces of packed entries in any order
// (pinned maps, as bpf(2) reads them) to a compiled image: each entry is
// looked up in the image's sorted keys, with no object per entry and no
// copy of the whole map.
import { MAPS, type MapName } from '../abi/layouts.generated.ts';
import { compareAt, findKey, gather, keyOrder } from './keyOrder.ts';
import { encodeDiff, type MapDiff, type MapOps } from './mapDiff.ts';
import type { MapStore } from './store.ts';

/** A store that hands out a map's entries in pieces, packed, valid during the call only. */
export interface ChunkedStore { chunks(map: MapName, each: (keys: Uint8Array, values: Uint8Array, n: number) => void): void }

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;
const pack = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/**
 * Whether n bytes of a at i are those of b at j. A short value is compared
 * here: Buffer#compare's checks and call into C++ cost four times the loop
 * for a 16-byte value (52,000 of them: 21 against 5 ms in a restart's one
 * reconcile, the code cold).
 */
const sameAt = (a: Buffer, i: number, b: Buffer, j: number, n: number) =>
  n <= 64 ? compareAt(a, i, b, j, n) === 0 : a.compare(b, j, j + n, i, i + n) === 0;

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

/** reconcile(live, imageStore(image)), from live's entries in pieces: image is a diff from empty maps, its upserts in key order. */
export function reconcileImage(live: ChunkedStore, image: MapDiff): MapDiff {
  const none = new Uint8Array(0);
  const sections: MapOps[] = [];
  for (const map of [...MAPS].sort((a, b) => a.id - b.id)) {
    const ks = map.key.size, vs = map.value.size;
    const s = image.sections.find((x) => x.map.id === map.id);
    if (s && s.deleteKeys.length > 0) throw new Error(`reconcile: the image deletes from ${map.name}; an image only adds`);
    const wantKeys = s?.upsertKeys ?? none, m = wantKeys.length / ks;
    const want = Buffer.from((s?.upsertValues ?? none).buffer, (s?.upsertValues ?? none).byteOffset, m * vs);
    const kept = new Uint8Array(m); // 1: live holds the entry as the image has it
    const gone: Uint8Array[] = [];
    live.chunks(map.name, (keys, values, n) => {
      const have = Buffer.from(values.buffer, values.byteOffset, n * vs);
      for (let i = 0; i < n; i++) {
        const j = findKey(wantKeys, m, ks, keys, i * ks);
        if (j < 0) gone.push(keys.slice(i * ks, (i + 1) * ks));
        else if (sameAt(want, j * vs, have, i * vs, vs)) kept[j] = 1;
      }
    });
    const upserts: number[] = [];
    for (let j = 0; j < m; j++) if (!kept[j]) upserts.push(j);
    const goneKeys = pack(gone);
    sections.push({
      map, upsertKeys: gather(wantKeys, ks, upserts), upsertValues: gather(want, vs, upserts),
      deleteKeys: gather(goneKeys, ks, keyOrder(goneKeys, ks, gone.length)),
    });
  }
  return encodeDiff(sections);
}
