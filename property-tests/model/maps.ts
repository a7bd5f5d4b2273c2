// Map contents as comparable text, and the checks every diff must pass.
import { MAPS } from '../../runtime/abi/layouts.generated.ts';
import type { MapDiff } from '../../runtime/maps/mapDiff.ts';
import { MemoryStore, type MapStore } from '../../runtime/maps/store.ts';
import { Compiler, type CompilerOptions } from '../../runtime/wasm/host.ts';
import { encodeRecords, type Record } from '../../runtime/encode/schema.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Every entry, one line each: "map key value", maps by id, keys in order. */
export function dump(store: MapStore): string[] {
  return MAPS.flatMap((m) => store.entries(m.name).map(([k, v]) => `${m.name} ${hex(k)} ${hex(v)}`));
}

/** The maps a fresh compiler builds from these objects in one batch. */
export function compileOnce(records: Record[], opts: CompilerOptions): string[] {
  const store = new MemoryStore();
  store.apply(new Compiler(opts).batch(encodeRecords(records)));
  return dump(store);
}

/** Throws unless the diff, applied to store, is sorted and minimal: keys
 * strictly increasing within upserts and within deletes, no key in both, no
 * upsert that rewrites a value already there, no delete of a missing key. */
export function checkMinimal(diff: MapDiff, store: MapStore): void {
  for (const s of diff.sections) {
    const ks = s.map.key.size, vs = s.map.value.size;
    const keys = (b: Uint8Array) => Array.from({ length: b.length / ks }, (_, i) => hex(b.subarray(i * ks, i * ks + ks)));
    const up = keys(s.upsertKeys), del = keys(s.deleteKeys);
    for (const list of [up, del]) {
      list.forEach((k, i) => { if (i > 0 && list[i - 1] >= k) throw new Error(`${s.map.name}: keys out of order at ${k}`); });
    }
    const dels = new Set(del);
    up.forEach((k, i) => {
      if (dels.has(k)) throw new Error(`${s.map.name}: key ${k} both upserted and deleted`);
      const old = store.lookup(s.map.name, s.upsertKeys.subarray(i * ks, i * ks + ks));
      if (old && hex(old) === hex(s.upsertValues.subarray(i * vs, i * vs + vs))) {
        throw new Error(`${s.map.name}: upsert of ${k} leaves its value as it was`);
      }
    });
    del.forEach((k, i) => {
      if (!store.lookup(s.map.name, s.deleteKeys.subarray(i * ks, i * ks + ks))) throw new Error(`${s.map.name}: delete of missing ${k}`);
    });
  }
}
