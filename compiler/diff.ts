// Two sets of entries in, the ops between them out: both sides sorted by key
// bytes, one merge pass, an op only where a value changes. The output is
// ordered by map id, then upserts then deletes, each by key bytes.
import { MAPS_LAYOUT } from './abi/layouts';
import { Entries } from './entries';
import * as out from './out';
import { MAX_BLOCK } from './rawbuf';

/** One Entries per map, indexed by map id - 1. */
export class MapSet {
  maps: Entries[] = [];

  constructor() {
    for (let i = 0; i < MAPS_LAYOUT.length; i += 3) {
      this.maps.push(new Entries(MAPS_LAYOUT[i], MAPS_LAYOUT[i + 1], MAPS_LAYOUT[i + 2]));
    }
  }

  @inline get(map: i32): Entries { return unchecked(this.maps[map - 1]); }

  clear(): void { for (let i = 0; i < this.maps.length; i++) this.maps[i].clear(); }
}

const SECTION_HEADER: i32 = 20;

/** The ops of one map: indices of upserts (into after) and deletes (into before). */
class Section {
  upd: i32[] = [];
  del: i32[] = [];
  constructor(public before: Entries, public after: Entries) {}

  get bytes(): u64 {
    const ks = <u64>this.before.keySize;
    return <u64>SECTION_HEADER + <u64>this.upd.length * (ks + <u64>this.before.valSize) + <u64>this.del.length * ks;
  }
}

/** Writes the diff that turns `before` into `after`; returns its address. */
export function writeDiff(before: MapSet, after: MapSet): usize {
  const sections: Section[] = [];
  let total: u64 = 8;
  for (let m = 0; m < before.maps.length; m++) {
    const s = merge(unchecked(before.maps[m]), unchecked(after.maps[m]));
    if (s.upd.length + s.del.length == 0) continue;
    sections.push(s);
    total += s.bytes;
  }
  // Past MAX_BLOCK (only a cluster whose tables far outgrow sl_maglev gets
  // there: one Service's are limited, services.ts) this aborts, naming the size.
  if (total > <u64>MAX_BLOCK) throw new Error('a diff of ' + total.toString() + ' bytes: the compiler writes at most ' + MAX_BLOCK.toString() + ' at once');
  out.begin();
  out.reserve(<i32>total); // once: the diff of a full compile runs to megabytes
  out.putU32At(4, sections.length);
  let at = 8;
  for (let i = 0; i < sections.length; i++) at = write(sections[i], at);
  return out.finish();
}

function merge(a: Entries, b: Entries): Section {
  const s = new Section(a, b);
  const oa = a.order(), ob = b.order();
  checkUnique(a, oa);
  checkUnique(b, ob);
  let i = 0, j = 0;
  while (i < a.n || j < b.n) {
    const x = i < a.n ? unchecked(oa[i]) : -1, y = j < b.n ? unchecked(ob[j]) : -1;
    if (y < 0 || (x >= 0 && a.lessThan(x, b, y))) { s.del.push(x); i++; continue; }
    if (x < 0 || !a.sameKey(x, b, y)) { s.upd.push(y); j++; continue; }
    if (memory.compare(a.valueAt(x), b.valueAt(y), <usize>a.valSize) != 0) s.upd.push(y);
    i++; j++;
  }
  return s;
}

function write(s: Section, at: i32): i32 {
  const a = s.before, b = s.after;
  const ks = a.keySize, vs = a.valSize;
  const h = out.at(at);
  store<u32>(h, a.map);
  store<u32>(h, ks, 4);
  store<u32>(h, vs, 8);
  store<u32>(h, s.upd.length, 12);
  store<u32>(h, s.del.length, 16);
  let p = h + SECTION_HEADER;
  for (let k = 0; k < s.upd.length; k++, p += ks) b.writeKey(unchecked(s.upd[k]), p);
  for (let k = 0; k < s.upd.length; k++, p += vs) memory.copy(p, b.valueAt(unchecked(s.upd[k])), <usize>vs);
  for (let k = 0; k < s.del.length; k++, p += ks) a.writeKey(unchecked(s.del[k]), p);
  return at + <i32>s.bytes;
}

/** Two entries with one key would make the diff ambiguous: a compiler bug. */
function checkUnique(e: Entries, order: Int32Array): void {
  for (let i = 1; i < e.n; i++) {
    if (e.sameKey(unchecked(order[i - 1]), e, unchecked(order[i]))) throw new Error('duplicate key in map ' + e.map.toString());
  }
}
