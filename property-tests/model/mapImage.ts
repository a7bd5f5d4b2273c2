// Builds map contents by field name, the way the compiler would emit them, so
// view tests run without compiler.wasm. Layouts come from runtime/abi, so the
// fixtures follow the header; raw-byte tests pin the byte order separately.
import type { StructLayout } from '../../runtime/abi/mapLayout.ts';
import type { MapDiff, MapOps } from '../../runtime/maps/mapDiff.ts';
import { layoutOf } from '../../runtime/maps/store.ts';
import type { MapName } from '../../runtime/abi/layouts.generated.ts';

export type Fields = { [field: string]: number | string };
export interface Entry { map: MapName; key: Fields; value: Fields }

export function encodeStruct(s: StructLayout, fields: Fields): Uint8Array {
  const out = new Uint8Array(s.size);
  for (const [name, v] of Object.entries(fields)) {
    const f = s.fields.find((x) => x.name === name);
    if (!f) throw new Error(`struct ${s.name} has no field ${name}`);
    if (typeof v === 'string') out.set(new TextEncoder().encode(v).subarray(0, f.size), f.offset);
    else for (let i = 0; i < f.size; i++) out[f.offset + (f.bigEndian ? f.size - 1 - i : i)] = Math.floor(v / 256 ** i) & 0xff;
  }
  return out;
}

const compareBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b);

/** A diff of upserts only, one section per map in id order, keys sorted. */
export function mapImage(entries: readonly Entry[]): MapDiff {
  const byMap = new Map<MapName, [Uint8Array, Uint8Array][]>();
  for (const e of entries) {
    const l = layoutOf(e.map);
    const list = byMap.get(e.map) ?? [];
    byMap.set(e.map, list);
    list.push([encodeStruct(l.key, e.key), encodeStruct(l.value, e.value)]);
  }
  const sections: MapOps[] = [...byMap].map(([name, list]) => {
    list.sort(([a], [b]) => compareBytes(a, b));
    const packed = (part: 0 | 1) => new Uint8Array(Buffer.concat(list.map((kv) => kv[part])));
    return { map: layoutOf(name), upsertKeys: packed(0), upsertValues: packed(1), deleteKeys: new Uint8Array(0) };
  }).sort((a, b) => a.map.id - b.map.id);
  return { sections, bytes: new Uint8Array(0) };
}

