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

// The diff is handed out in pieces of about this many bytes (piece()), so the
// output buffer stays this small: a full compile's diff, mostly selection
// tables, runs to 83 MiB at 5,000 Services of more than 32 backends each
// (2.9 MiB at issue 12's 5,000 of 5, which have none), and WebAssembly
// memory once touched stays resident for the life of the module.
const PIECE: i32 = 1 << 20;

// The diff being handed out: its sections and how far piece() has written.
let pending: Section[] = [];
let pendingBytes: u64 = 0;
let section: i32 = 0; // the section being written
let item: i32 = -1; // its header (0), upsert keys, upsert values, delete keys; -1: the diff's header first

/** Computes the diff that turns `before` into `after`, which must stay as they
 * are until piece() has handed all of it out; returns its length in bytes. */
export function writeDiff(before: MapSet, after: MapSet): u32 {
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
  pending = sections;
  pendingBytes = total;
  section = 0;
  item = -1;
  return <u32>total;
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

/** The next piece of the diff writeDiff computed: u32 length (its own 4
 * bytes included), then the diff's next bytes, whole keys and values. The
 * pieces in order are the diff: u32 total length · u32 section count ·
 * sections (index.ts). Past its end, a piece holds no bytes. */
export function piece(): usize {
  out.begin();
  out.reserve(4);
  if (item < 0) {
    out.putU32(<u32>pendingBytes);
    out.putU32(pending.length);
    item = 0;
  }
  while (section < pending.length && out.length() < PIECE) {
    if (!writeItem(unchecked(pending[section]), item++)) { section++; item = 0; }
  }
  if (section == pending.length) pending = []; // the diff is out: its sections may go
  return out.finish();
}

/** Writes item i of section s (its header, then its keys and values in
 * order); false when s has no item i. */
function writeItem(s: Section, i: i32): bool {
  const a = s.before, b = s.after;
  const ks = a.keySize, vs = a.valSize, u = s.upd.length;
  if (i == 0) {
    const h = out.at(out.reserve(SECTION_HEADER));
    store<u32>(h, a.map);
    store<u32>(h, ks, 4);
    store<u32>(h, vs, 8);
    store<u32>(h, u, 12);
    store<u32>(h, s.del.length, 16);
  } else if (i <= u) {
    b.writeKey(unchecked(s.upd[i - 1]), out.at(out.reserve(ks)));
  } else if (i <= 2 * u) {
    const v = b.valueAt(unchecked(s.upd[i - u - 1])); // may build a table
    memory.copy(out.at(out.reserve(vs)), v, <usize>vs);
  } else if (i <= 2 * u + s.del.length) {
    a.writeKey(unchecked(s.del[i - 2 * u - 1]), out.at(out.reserve(ks)));
  } else {
    return false;
  }
  return true;
}

/** Two entries with one key would make the diff ambiguous: a compiler bug. */
function checkUnique(e: Entries, order: Int32Array): void {
  for (let i = 1; i < e.n; i++) {
    if (e.sameKey(unchecked(order[i - 1]), e, unchecked(order[i]))) throw new Error('duplicate key in map ' + e.map.toString());
  }
}
