// Two sets of entries in, the ops between them out: both sides sorted by key
// bytes, one merge pass, an op only where a value changes. The output is
// ordered by map id, then upserts then deletes, each by key bytes.
import { MAPS_LAYOUT } from './abi/layouts';
import { Entries } from './entries';
import * as out from './out';

/** One Entries per map, indexed by map id - 1. */
export class MapSet {
  maps: Entries[] = [];

  constructor() {
    for (let i = 0; i < MAPS_LAYOUT.length; i += 3) {
      this.maps.push(new Entries(MAPS_LAYOUT[i], MAPS_LAYOUT[i + 1], MAPS_LAYOUT[i + 2]));
    }
  }

  @inline get(map: i32): Entries { return unchecked(this.maps[map - 1]); }
}

const SECTION_HEADER: i32 = 20;

/** Writes the diff that turns `before` into `after`; returns its address. */
export function writeDiff(before: MapSet, after: MapSet): usize {
  out.begin();
  out.putU32(0); // total length, set by finish()
  const countAt = out.reserve(4);
  let sections: u32 = 0;
  for (let m = 0; m < before.maps.length; m++) {
    if (writeSection(unchecked(before.maps[m]), unchecked(after.maps[m]))) sections++;
  }
  out.putU32At(countAt, sections);
  return out.finish();
}

function writeSection(a: Entries, b: Entries): bool {
  const oa = a.order(), ob = b.order();
  checkUnique(a, oa);
  checkUnique(b, ob);
  const upd: i32[] = [], del: i32[] = [];
  let i = 0, j = 0;
  while (i < a.n || j < b.n) {
    const x = i < a.n ? unchecked(oa[i]) : -1, y = j < b.n ? unchecked(ob[j]) : -1;
    if (y < 0 || (x >= 0 && a.lessThan(x, b, y))) { del.push(x); i++; continue; }
    if (x < 0 || !a.sameKey(x, b, y)) { upd.push(y); j++; continue; }
    if (memory.compare(a.valueAt(x), b.valueAt(y), <usize>a.valSize) != 0) upd.push(y);
    i++; j++;
  }
  if (upd.length == 0 && del.length == 0) return false;
  const ks = a.keySize, vs = a.valSize;
  const h = out.reserve(SECTION_HEADER);
  store<u32>(out.at(h), a.map);
  store<u32>(out.at(h), ks, 4);
  store<u32>(out.at(h), vs, 8);
  store<u32>(out.at(h), upd.length, 12);
  store<u32>(out.at(h), del.length, 16);
  for (let k = 0; k < upd.length; k++) b.writeKey(upd[k], out.at(out.reserve(ks)));
  for (let k = 0; k < upd.length; k++) memory.copy(out.at(out.reserve(vs)), b.valueAt(upd[k]), <usize>vs);
  for (let k = 0; k < del.length; k++) a.writeKey(del[k], out.at(out.reserve(ks)));
  return true;
}

/** Two entries with one key would make the diff ambiguous: a compiler bug. */
function checkUnique(e: Entries, order: Int32Array): void {
  for (let i = 1; i < e.n; i++) {
    if (e.sameKey(unchecked(order[i - 1]), e, unchecked(order[i]))) throw new Error('duplicate key in map ' + e.map.toString());
  }
}
