// Reads a frontend's Maglev table out of the maps (slot -> "ip:port"), and a
// backend set's entries in sl_be.
import { MAPS, SL_MAP_BE, SL_MAP_MAGLEV, SL_MAP_SVC } from '../../runtime/abi/layouts.generated.ts';
import type { MapStore } from '../../runtime/maps/store.ts';

const layout = (id: number) => MAPS.find((m) => m.id === id)!;

/** The backends of a set in sl_be: id -> "ip:port". */
export function setBackends(store: MapStore, bset: number): Map<number, string> {
  const addr = new Map<number, string>();
  for (const [k, bv] of store.entries(layout(SL_MAP_BE).name)) {
    const kv = new DataView(k.buffer, k.byteOffset);
    if (kv.getUint32(0) !== bset) continue;
    addr.set(kv.getUint32(4), `${bv[0]}.${bv[1]}.${bv[2]}.${bv[3]}:${(bv[4] << 8) | bv[5]}`);
  }
  return addr;
}

export function maglevTable(store: MapStore, svcKey: Uint8Array): string[] {
  const val = store.lookup(layout(SL_MAP_SVC).name, svcKey);
  if (!val) throw new Error('no such frontend');
  const v = new DataView(val.buffer, val.byteOffset);
  const bset = v.getUint32(0, true), slots = v.getUint32(4, true);
  const addr = setBackends(store, bset);
  const table: string[] = [];
  for (const [k, mv] of store.entries(layout(SL_MAP_MAGLEV).name)) {
    const kv = new DataView(k.buffer, k.byteOffset);
    if (kv.getUint32(0) !== bset) continue;
    const ids = new DataView(mv.buffer, mv.byteOffset, mv.byteLength);
    const chunk = kv.getUint32(4), per = mv.length / 4;
    for (let i = 0; i < per && chunk * per + i < slots; i++) table[chunk * per + i] = addr.get(ids.getUint32(i * 4, true))!;
  }
  return table;
}
