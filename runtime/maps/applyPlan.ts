// The order a diff goes into live maps, and whether it fits, so that no
// moment of an apply (nor the end of one that fails part way) shows a
// frontend anything but its old state or its new one:
//  1. frontends that go (sl_svc deletes): each is then in its new state, gone;
//  2. backend sets (sl_be, sl_maglev, sl_svcname) and source ranges in,
//     before any frontend points at them;
//  3. frontends in (sl_svc upserts): each moves from its old set to its new
//     one in a single update;
//  4. what nothing points at any more: the other maps' deletes.
// A set's id is its rank in a hash bucket, so a set may be given the id that
// a frontend still points at until it moves: that set goes in a later round
// (2 and 3 again), after the frontend has moved. A set that keeps its id is
// rewritten in place; during that write each slot of its table names a
// backend of the old set or of the new one.
// Deleting last holds old and new entries at once. Where a map lacks the
// room, the deletes of entries nothing points at during the apply (sets whose
// frontends all went in 1, ranges of frontends that went) move before 2; a
// change that still does not fit is refused before anything is written.
import { MAPS, SL_MAP_SVC, type MapName } from '../abi/layouts.generated.ts';
import type { MapLayout } from '../abi/mapLayout.ts';
import { bytesReader, uintReader } from '../abi/fieldReader.ts';
import type { MapDiff, MapOps } from './mapDiff.ts';

/** One write: n packed entries upserted, or (values null) deleted. */
export interface Step { map: MapLayout; keys: Uint8Array; values: Uint8Array | null; n: number }

/** What the maps hold, read when a change may not fit. */
export interface Room {
  entries(map: MapName): [key: Uint8Array, value: Uint8Array][];
  maxEntries(map: MapName): number;
}

/** A change that cannot fit: map, its max_entries, and the entries it would need (atOnce: before the old ones go). */
export class NoRoom extends Error {
  readonly map: MapName;
  readonly max: number;
  readonly needed: number;
  readonly atOnce: boolean;
  constructor(map: MapName, max: number, needed: number, atOnce: boolean) {
    super(`${map}: ${needed} entries needed, max_entries ${max}`);
    this.map = map;
    this.max = max;
    this.needed = needed;
    this.atOnce = atOnce;
  }
}

export interface Plan {
  steps: Step[];
  /** Entries per map once applied; known when room was read. */
  counts?: Map<string, number>;
}

const svcLayout = MAPS.find((m) => m.id === SL_MAP_SVC)!;
const svcBset = uintReader(svcLayout.value, 'bset');
const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Which backend set or frontend an entry of a map other than sl_svc belongs to, as a string;
 * "other" for maps no frontend points into (policy), which go in round 1 and are deleted last. */
function refOf(map: MapLayout): (key: Uint8Array) => string {
  const has = (f: string) => map.key.fields.some((x) => x.name === f);
  if (has('bset')) {
    const bset = uintReader(map.key, 'bset');
    return (k) => `set ${bset(k)}`;
  }
  if (!['vip', 'port', 'proto'].every(has)) return () => 'other';
  const parts = ['vip', 'port', 'proto'].map((f) => bytesReader(map.key, f));
  return (k) => `frontend ${parts.map((p) => hex(p(k))).join('|')}`;
}
const svcParts = ['vip', 'port', 'proto'].map((f) => bytesReader(svcLayout.key, f));
const frontendRef = (k: Uint8Array) => `frontend ${svcParts.map((p) => hex(p(k))).join('|')}`;

const entriesOf = (keys: Uint8Array, values: Uint8Array | null, ks: number, vs: number) =>
  Array.from({ length: keys.length / ks }, (_, i) => [keys.subarray(i * ks, (i + 1) * ks), values?.subarray(i * vs, (i + 1) * vs)] as const);

function pack(map: MapLayout, entries: readonly (readonly [Uint8Array, Uint8Array | undefined])[], deletes: boolean): Step {
  const keys = Buffer.concat(entries.map(([k]) => k));
  const values = deletes ? null : Buffer.concat(entries.map(([, v]) => v!));
  return { map, keys: new Uint8Array(keys), values: values && new Uint8Array(values), n: entries.length };
}

/**
 * The steps that take the maps from their state to the diff's. oldValue gives
 * a frontend's live sl_svc value (to tell where it moves from); with room, the
 * change is checked against each map's max_entries and NoRoom thrown when it
 * cannot fit.
 */
export function planApply(diff: MapDiff, oldValue: (svcKey: Uint8Array) => Uint8Array | undefined, room?: Room): Plan {
  const svc = diff.sections.find((s) => s.map.id === SL_MAP_SVC);
  const others = diff.sections.filter((s) => s !== svc);
  const svcUpserts = svc ? entriesOf(svc.upsertKeys, svc.upsertValues, svc.map.key.size, svc.map.value.size) : [];
  const svcDeletes = svc ? entriesOf(svc.deleteKeys, null, svc.map.key.size, 0) : [];
  const rounds = roundsOf(others, svcUpserts, oldValue);
  const early = room ? fit(diff, room, svcUpserts, svcDeletes) : { deletes: new Map<MapOps, Set<number>>(), counts: undefined };

  const steps: Step[] = [];
  const add = (s: Step) => s.n > 0 && steps.push(s);
  if (svc) add({ map: svc.map, keys: svc.deleteKeys, values: null, n: svcDeletes.length });
  for (const s of others) {
    const idx = early.deletes.get(s);
    if (idx) add(pack(s.map, entriesOf(s.deleteKeys, null, s.map.key.size, 0).filter((_, i) => idx.has(i)), true));
  }
  const upserts = (s: MapOps) => ({ map: s.map, keys: s.upsertKeys, values: s.upsertValues, n: s.upsertKeys.length / s.map.key.size });
  if (rounds.last === 1) { // the usual case: the sections as they are, one write per map and op
    for (const s of others) add(upserts(s));
    if (svc) add(upserts(svc));
  }
  for (let r = 1; rounds.last > 1 && r <= rounds.last; r++) {
    for (const s of others) {
      const ref = refOf(s.map);
      add(pack(s.map, entriesOf(s.upsertKeys, s.upsertValues, s.map.key.size, s.map.value.size).filter(([k]) => rounds.of(ref(k)) === r), false));
    }
    if (svc) add(pack(svc.map, svcUpserts.filter(([, v]) => rounds.of(`set ${svcBset(v!)}`) === r), false));
  }
  for (const s of others) {
    const idx = early.deletes.get(s);
    if (!idx) add({ map: s.map, keys: s.deleteKeys, values: null, n: s.deleteKeys.length / s.map.key.size });
    else add(pack(s.map, entriesOf(s.deleteKeys, null, s.map.key.size, 0).filter((_, i) => !idx.has(i)), true));
  }
  return { steps, counts: early.counts };
}

/**
 * The round each backend set's new entries go in: after every frontend that
 * moves away from its id has moved (in the round of the set it moves to).
 * Bucket ranks keep their order, so these waits have no cycle; should one
 * appear (frontends trading sets both ways), everything goes in round 1.
 */
function roundsOf(others: readonly MapOps[], svcUpserts: readonly (readonly [Uint8Array, Uint8Array | undefined])[],
  oldValue: (k: Uint8Array) => Uint8Array | undefined): { of(ref: string): number; last: number } {
  const written = new Set<string>();
  for (const s of others) {
    const ref = refOf(s.map);
    for (const [k] of entriesOf(s.upsertKeys, s.upsertValues, s.map.key.size, s.map.value.size)) written.add(ref(k));
  }
  const waitsFor = new Map<string, Set<string>>(); // set id -> the sets its frontends move to
  if (written.size > 0) {
    for (const [k, v] of svcUpserts) {
      const old = oldValue(k);
      if (!old || svcBset(old) === svcBset(v!)) continue;
      const from = `set ${svcBset(old)}`;
      if (!written.has(from)) continue; // nothing new is written where it was
      if (!waitsFor.has(from)) waitsFor.set(from, new Set());
      waitsFor.get(from)!.add(`set ${svcBset(v!)}`);
    }
  }
  const round = new Map<string, number>();
  let cycle = false;
  const visit = (ref: string, path: Set<string>): number => {
    if (!written.has(ref)) return 1; // there already: frontends may move to it in round 1
    const known = round.get(ref);
    if (known !== undefined) return known;
    if (path.has(ref)) { cycle = true; return 1; }
    path.add(ref);
    let r = 1;
    for (const to of waitsFor.get(ref) ?? []) r = Math.max(r, visit(to, path) + 1);
    path.delete(ref);
    round.set(ref, r);
    return r;
  };
  for (const ref of waitsFor.keys()) visit(ref, new Set());
  if (cycle) return { of: () => 1, last: 1 };
  return { of: (ref) => round.get(ref) ?? 1, last: Math.max(1, ...round.values()) };
}

/** Checks every map's room; returns the deletes that must go early (by index into each section's deletes) and the final counts. */
function fit(diff: MapDiff, room: Room, svcUpserts: readonly (readonly [Uint8Array, Uint8Array | undefined])[],
  svcDeletes: readonly (readonly [Uint8Array, unknown])[]): { deletes: Map<MapOps, Set<number>>; counts: Map<string, number> } {
  const deletes = new Map<MapOps, Set<number>>(), counts = new Map<string, number>();
  let referenced: Set<string> | undefined; // what a frontend points at during the apply: read once, if needed
  const pointedAt = () => {
    if (referenced) return referenced;
    const gone = new Set(svcDeletes.map(([k]) => hex(k)));
    referenced = new Set(['other']); // a policy entry may be in use whatever the frontends do
    for (const [k, v] of room.entries('sl_svc')) if (!gone.has(hex(k))) referenced.add(`set ${svcBset(v)}`).add(frontendRef(k));
    for (const [k, v] of svcUpserts) referenced.add(`set ${svcBset(v!)}`).add(frontendRef(k));
    return referenced;
  };
  for (const s of diff.sections) {
    const name = s.map.name, max = room.maxEntries(name), ks = s.map.key.size;
    const live = new Set(room.entries(name).map(([k]) => hex(k)));
    const added = entriesOf(s.upsertKeys, null, ks, 0).filter(([k]) => !live.has(hex(k))).length;
    const removed = s.deleteKeys.length / ks;
    const final = live.size + added - removed;
    counts.set(name, final);
    if (final > max) throw new NoRoom(name, max, final, false);
    if (s.map.id === SL_MAP_SVC || live.size + added <= max) continue; // sl_svc deletes first
    const ref = refOf(s.map), busy = pointedAt();
    const idx = new Set(entriesOf(s.deleteKeys, null, ks, 0).flatMap(([k], i) => (busy.has(ref(k)) ? [] : [i])));
    const peak = live.size + added - idx.size;
    if (peak > max) throw new NoRoom(name, max, peak, true);
    deletes.set(s, idx);
  }
  return { deletes, counts };
}
