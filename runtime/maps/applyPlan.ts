// The order a diff goes into live maps, and whether it fits, so that no
// moment of an apply (nor the end of one that fails part way) shows a
// frontend anything but its old state or its new one. A frontend reads its
// sl_svc value, then slots [0, value.slots) of its set's table in sl_maglev,
// then the backends those slots name in sl_be; with session affinity, any
// backend of its set in sl_be (an sl_affinity entry may name it). So:
//  1. frontends that go (sl_svc deletes): each is then in its new state, gone;
//  2. source ranges in (keyed by frontend), before their frontends change;
//  3. frontends whose set keeps its id but whose table shrinks: the new value
//     first, reading the first slots of the old table, because the old
//     value's slot count would read past the end of the new one;
//  4. backend sets (sl_be, sl_maglev, sl_svcname) in, before any frontend
//     points at them, then the frontends that stay on their set (or have no
//     backends, and read none); a set's old entries (the frontends that read
//     them have moved), then the frontends that join it, which, with
//     affinity, must find no backend the set loses (its previous owner's,
//     where the id changed hands); each frontend moves in a single update;
//  5. what nothing points at any more: the other maps' deletes.
// A set's id is its rank in a hash bucket, so a set may be given the id that
// a frontend still points at until it moves: that set goes in a later round
// (4 again), after the frontend has moved. A set that keeps its id is
// rewritten in place; during that write each slot of its table, up to the
// slot count of the value its frontends have then, names a backend of the
// old set or of the new one.
// Deleting last holds old and new entries at once. Where a map lacks the
// room, the deletes of entries nothing points at during the apply (sets whose
// frontends all went in 1, ranges of frontends that went) move before 2; a
// change that still does not fit is refused before anything is written.
import { MAPS, SL_MAP_SVC, SL_SVC_AFFINITY, type MapName } from '../abi/layouts.generated.ts';
import type { MapLayout } from '../abi/mapLayout.ts';
import { fieldOf, uintReader } from '../abi/fieldReader.ts';
import { gather } from './keyOrder.ts';
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
const svcSlots = uintReader(svcLayout.value, 'slots');
const svcCount = uintReader(svcLayout.value, 'count');
const svcFlags = uintReader(svcLayout.value, 'flags');
/** n bytes of b from at, as a string: a key to compare by value. */
const bytesKey = (b: Uint8Array, at: number, n: number) => Buffer.from(b.buffer, b.byteOffset + at, n).toString('latin1');

/**
 * What an entry belongs to: a backend set (its id, a number), a frontend
 * ("frontend " and its vip, port and proto bytes), or 'other': nothing a
 * frontend points into (policy: written in round 1, deleted last). A full
 * sync names hundreds of thousands of entries: a set's is a number, not a string.
 */
type Ref = number | string;

/** What the keys of a map other than sl_svc belong to. */
function keyedBy(map: MapLayout): 'set' | 'frontend' | 'other' {
  const has = (f: string) => map.key.fields.some((x) => x.name === f);
  return has('bset') ? 'set' : ['vip', 'port', 'proto'].every(has) ? 'frontend' : 'other';
}

/** The frontend of a key that has one (sl_svc's, sl_srcrange's), the key starting at byte at. */
function frontendRefOf(map: MapLayout): (keys: Uint8Array, at: number) => string {
  const [vip, port, proto] = ['vip', 'port', 'proto'].map((f) => fieldOf(map.key, f));
  return (k, at) => `frontend ${bytesKey(k, at + vip.offset, vip.size)}|${bytesKey(k, at + port.offset, port.size)}|${bytesKey(k, at + proto.offset, proto.size)}`;
}

/** What the entry of a map other than sl_svc whose key starts at byte at belongs to. */
function refOf(map: MapLayout): (keys: Uint8Array, at: number) => Ref {
  const by = keyedBy(map);
  if (by === 'set') return uintReader(map.key, 'bset');
  if (by === 'other') return () => 'other';
  return frontendRefOf(map);
}
const frontendRef = frontendRefOf(svcLayout);

/** The refs of packed keys, one per key. */
const refsOf = (keys: Uint8Array, ks: number, ref: (keys: Uint8Array, at: number) => Ref): Ref[] =>
  Array.from({ length: keys.length / ks }, (_, i) => ref(keys, i * ks));

const entriesOf = (keys: Uint8Array, values: Uint8Array | null, ks: number, vs: number) =>
  Array.from({ length: keys.length / ks }, (_, i) => [keys.subarray(i * ks, (i + 1) * ks), values?.subarray(i * vs, (i + 1) * vs)] as const);

/** A frontend's upsert: the set whose entries its old value reads and the one its new value
 * reads (none when it has no backends), whether its table shrinks in place, and whether its
 * new value may reach any backend of its set (session affinity). */
interface Move { from: Ref | undefined; to: Ref | undefined; shrinks: boolean; affine: boolean }

function moveOf(key: Uint8Array, value: Uint8Array, oldValue: (k: Uint8Array) => Uint8Array | undefined): Move {
  const old = oldValue(key);
  const reads = (v: Uint8Array | undefined) => (v && svcCount(v) > 0 ? svcBset(v) : undefined);
  const from = reads(old), to = reads(value);
  return { from, to, shrinks: to !== undefined && from === to && svcSlots(value) < svcSlots(old!), affine: (svcFlags(value) & SL_SVC_AFFINITY) !== 0 };
}

// Phases, in the order they are written; round r >= 1 of step 4 has four.
const FRONTENDS_OUT = 0, ROOM = 1, RANGES_IN = 2, SHRINKING = 3;
const setsIn = (r: number) => 4 * r, staying = (r: number) => 4 * r + 1, staleOut = (r: number) => 4 * r + 2, joining = (r: number) => 4 * r + 3;

/** The phase of each entry of one map's upserts or deletes, or one phase for all of them. */
type Phases = number | number[];

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
  const early = room ? fit(diff, room, svcUpserts, svcDeletes) : { deletes: new Map<MapOps, Set<number>>(), counts: undefined };

  // Each entry's ref, read only where the order needs it: not in a first sync, where no frontend moves.
  const refs = new Map<MapOps, { upserts?: Ref[]; deletes?: Ref[] }>(others.map((s) => [s, {}]));
  const refsFor = (s: MapOps, op: 'upserts' | 'deletes'): Ref[] => {
    const r = refs.get(s)!;
    return (r[op] ??= refsOf(op === 'upserts' ? s.upsertKeys : s.deleteKeys, s.map.key.size, refOf(s.map)));
  };
  const sets = others.filter((s) => keyedBy(s.map) === 'set');
  // Where a frontend moves from matters only where a set is written or loses entries.
  const moves = sets.some((s) => s.upsertKeys.length + s.deleteKeys.length > 0) ? svcUpserts.map(([k, v]) => moveOf(k, v!, oldValue)) : [];
  const emptied = new Set(sets.flatMap((s) => refsFor(s, 'deletes')));
  // Sets whose old entries go before frontends join them, lest affinity lead a frontend to one.
  const joined = new Set(moves.flatMap((m) => (m.to !== undefined && m.from !== m.to && m.affine && emptied.has(m.to) ? [m.to] : [])));
  // The sets written wait only for frontends that move off one.
  const changed = new Set<Ref>(joined);
  if (moves.some((m) => m.from !== undefined && m.from !== m.to)) for (const s of sets) for (const x of refsFor(s, 'upserts')) changed.add(x);
  const rounds = roundsOf(moves, changed);

  const phases = new Map<MapOps, { upserts: Phases; deletes: Phases }>();
  if (svc) {
    phases.set(svc, { deletes: FRONTENDS_OUT, upserts: moves.length === 0 ? staying(1) : moves.map((m) => {
      if (m.shrinks) return SHRINKING;
      if (m.to === undefined) return staying(1); // reads no set: in as soon as its old one allows
      return m.from !== m.to && joined.has(m.to) ? joining(rounds.of(m.to)) : staying(rounds.of(m.to));
    }) });
  }
  const last = setsIn(rounds.last + 1);
  for (const s of others) {
    const by = keyedBy(s.map), idx = early.deletes.get(s);
    phases.set(s, {
      upserts: by === 'frontend' ? RANGES_IN : by === 'set' && rounds.last > 1 ? refsFor(s, 'upserts').map((x) => setsIn(rounds.of(x))) : setsIn(1),
      deletes: !idx && (by !== 'set' || joined.size === 0) ? last
        : refsFor(s, 'deletes').map((x, i) => (idx?.has(i) ? ROOM : joined.has(x) ? staleOut(rounds.of(x)) : last)),
    });
  }

  const steps: Step[] = [];
  const used = new Set([...phases.values()].flatMap((p) => [p.upserts, p.deletes].flat()));
  for (const phase of [...used].sort((a, b) => a - b)) {
    for (const s of diff.sections) {
      for (const deletes of [false, true]) {
        const step = stepOf(s, deletes, deletes ? phases.get(s)!.deletes : phases.get(s)!.upserts, phase);
        if (step) steps.push(step);
      }
    }
  }
  return { steps, counts: early.counts };
}

/** One map's upserts or deletes that go in phase, if any do. */
function stepOf(s: MapOps, deletes: boolean, phases: Phases, phase: number): Step | undefined {
  const keys = deletes ? s.deleteKeys : s.upsertKeys, values = deletes ? null : s.upsertValues;
  if (keys.length === 0 || (typeof phases === 'number' && phases !== phase)) return undefined;
  const ks = s.map.key.size, vs = s.map.value.size;
  if (typeof phases === 'number') return { map: s.map, keys, values, n: keys.length / ks };
  const chosen: number[] = [];
  for (let i = 0; i < phases.length; i++) if (phases[i] === phase) chosen.push(i);
  if (chosen.length === 0) return undefined;
  return { map: s.map, keys: gather(keys, ks, chosen), values: values && gather(values, vs, chosen), n: chosen.length };
}

/**
 * The round each changed backend set (written, or emptied before frontends
 * join it) goes in: after every frontend that reads it and moves away has
 * moved (in the round of the set it moves to, or round 1 if it then reads
 * none). Frontends that follow their set to another id never wait for each
 * other, as bucket ranks keep their order. Frontends that change set (taken
 * over by another Service, or their traffic policy changed) may trade ids
 * round a cycle of waits, which no order of these writes can serve: the wait
 * that closes the cycle is dropped, and the frontends it held read, for a
 * moment, a set that is neither their old nor their new one.
 */
function roundsOf(moves: readonly Move[], changed: ReadonlySet<Ref>): { of(ref: Ref): number; last: number } {
  const waitsFor = new Map<Ref, Set<Ref | undefined>>(); // set id -> the sets its readers move to
  for (const { from, to } of moves) {
    if (from === undefined || from === to || !changed.has(from)) continue; // nothing changes where it was
    if (!waitsFor.has(from)) waitsFor.set(from, new Set());
    waitsFor.get(from)!.add(to);
  }
  const round = new Map<Ref, number>();
  const visit = (ref: Ref | undefined, path: Set<Ref>): number => {
    if (ref === undefined || !changed.has(ref)) return 1; // none, or there already: frontends may move to it in round 1
    if (path.has(ref)) return 0; // closes a cycle: dropped
    const known = round.get(ref);
    if (known !== undefined) return known;
    path.add(ref);
    let r = 1;
    for (const to of waitsFor.get(ref) ?? []) r = Math.max(r, visit(to, path) + 1);
    path.delete(ref);
    round.set(ref, r);
    return r;
  };
  for (const ref of waitsFor.keys()) visit(ref, new Set());
  return { of: (ref) => round.get(ref) ?? 1, last: Math.max(1, ...round.values()) };
}

/** Checks every map's room; returns the deletes that must go early (by index into each section's deletes) and the final counts. */
function fit(diff: MapDiff, room: Room, svcUpserts: readonly (readonly [Uint8Array, Uint8Array | undefined])[],
  svcDeletes: readonly (readonly [Uint8Array, unknown])[]): { deletes: Map<MapOps, Set<number>>; counts: Map<string, number> } {
  const deletes = new Map<MapOps, Set<number>>(), counts = new Map<string, number>();
  let referenced: Set<Ref> | undefined; // what a frontend points at during the apply: read once, if needed
  const pointedAt = () => {
    if (referenced) return referenced;
    const gone = new Set(svcDeletes.map(([k]) => bytesKey(k, 0, k.length)));
    referenced = new Set<Ref>(['other']); // a policy entry may be in use whatever the frontends do
    for (const [k, v] of room.entries('sl_svc')) if (!gone.has(bytesKey(k, 0, k.length))) referenced.add(svcBset(v)).add(frontendRef(k, 0));
    for (const [k, v] of svcUpserts) referenced.add(svcBset(v!)).add(frontendRef(k, 0));
    return referenced;
  };
  for (const s of diff.sections) {
    const name = s.map.name, max = room.maxEntries(name), ks = s.map.key.size, upserts = s.upsertKeys.length / ks;
    const live = new Set(room.entries(name).map(([k]) => bytesKey(k, 0, k.length)));
    let added = upserts; // into an empty map (a first start), every upsert adds one
    if (live.size > 0) {
      added = 0;
      for (let i = 0; i < upserts; i++) if (!live.has(bytesKey(s.upsertKeys, i * ks, ks))) added++;
    }
    const removed = s.deleteKeys.length / ks;
    const final = live.size + added - removed;
    counts.set(name, final);
    if (final > max) throw new NoRoom(name, max, final, false);
    if (s.map.id === SL_MAP_SVC || live.size + added <= max) continue; // sl_svc deletes first
    const ref = refOf(s.map), busy = pointedAt();
    const idx = new Set(refsOf(s.deleteKeys, ks, ref).flatMap((x, i) => (busy.has(x) ? [] : [i])));
    const peak = live.size + added - idx.size;
    if (peak > max) throw new NoRoom(name, max, peak, true);
    deletes.set(s, idx);
  }
  return { deletes, counts };
}
