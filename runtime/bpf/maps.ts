// Pinned maps through bpf(2). PinnedMap is one open map (the handle);
// PinnedStore is the MapStore over the compiler-owned ones, so the views,
// reconcile and the tests treat live maps and MemoryStore alike. A MapDiff is
// applied in the order of maps/applyPlan.ts, usually one UPDATE_BATCH and one
// DELETE_BATCH per map section; a map type without batch ops falls back to
// one syscall per entry.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAPS, STATE_MAPS, type MapName } from '../abi/layouts.generated.ts';
import type { MapLayout } from '../abi/mapLayout.ts';
import { NoRoom, planApply } from '../maps/applyPlan.ts';
import { keyOrder } from '../maps/keyOrder.ts';
import { deleteCount, upsertCount, type MapDiff } from '../maps/mapDiff.ts';
import type { ChunkedStore } from '../maps/reconcile.ts';
import { StoreError, type MapStore } from '../maps/store.ts';
import { sizeFlagOf } from './sizes.ts';
import * as S from './syscall.ts';

const T = S.BPF_MAP_TYPE;
const TYPE_NAMES: { [type: number]: string } = Object.fromEntries(Object.entries(T).map(([k, v]) => [v, k.toLowerCase()]));
export const typeName = (type: number) => TYPE_NAMES[type] ?? `type ${type}`;
/** n entries, packed: keys, then values in the same order. */
export interface Packed { readonly keys: Uint8Array; readonly values: Uint8Array; readonly n: number }

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const PERCPU = new Set<number>([T.PERCPU_ARRAY, T.PERCPU_HASH, T.LRU_PERCPU_HASH]);
const NO_BATCH = new Set<number>([S.ENOTSUPP, S.errno.EOPNOTSUPP]);
/** Whole reads of a map that another writer keeps changing, before the error stands. */
const READ_TRIES = 4;
/** Upserts of a map near its size looked up one by one, rather than the maps read whole. */
const FEW_LOOKUPS = 64;

/** The way out when a pin does not fit this build. */
export const STALE_PIN_HINT = 'it was pinned by another version of sluice: run `sluice detach --pins` and apply again, or apply with --replace-maps';

let cpus: number | undefined;
/** Possible CPUs ("0-3,5"): per-CPU values come in one slot per possible CPU. */
export function possibleCpus(): number {
  cpus ??= readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',')
    .reduce((n, r) => { const [a, b = a] = r.split('-').map(Number); return n + b - a + 1; }, 0);
  return cpus;
}

/** One pinned map, opened by its path and checked against the layout this build expects. */
export class PinnedMap {
  readonly layout: MapLayout;
  readonly path: string;
  readonly info: S.MapInfo;
  /** Bytes per value as bpf(2) moves them: per-CPU maps carry one 8-aligned slot per possible CPU. */
  readonly valueBytes: number;
  /** bpf(2) calls made by write() so far: tests check that a diff costs one per map and op kind. */
  syscalls = 0;
  private fd: number;
  /** undefined until a batch call tells whether this map type has batch ops. */
  private batch: boolean | undefined;

  private constructor(layout: MapLayout, path: string, fd: number) {
    this.layout = layout;
    this.path = path;
    this.fd = fd;
    this.info = S.mapInfo(fd);
    const percpu = PERCPU.has(this.info.type);
    this.valueBytes = percpu ? Math.ceil(this.info.valueSize / 8) * 8 * possibleCpus() : this.info.valueSize;
  }

  /**
   * Opens root/<name>; null when nothing is pinned there; throws when the pin
   * does not fit the layout. batch: false makes every op one syscall per
   * entry, as on a kernel without batch ops for the type (tests use it).
   */
  static open(root: string, layout: MapLayout, batch?: false): PinnedMap | null {
    const path = join(root, layout.name);
    let fd: number | null;
    try {
      fd = S.objGet(path);
    } catch (e) {
      const denied = (e as S.BpfError).errno === S.errno.EACCES || (e as S.BpfError).errno === S.errno.EPERM;
      throw new Error(`open ${layout.name}: ${(e as Error).message}${denied ? ': needs root (CAP_BPF and read access to the pin)' : ''}`, { cause: e });
    }
    if (fd === null) return null;
    const m = new PinnedMap(layout, path, fd);
    m.batch = batch;
    const { type, keySize, valueSize } = m.info;
    if (type !== layout.type || keySize !== layout.key.size || valueSize !== layout.value.size) {
      m.close();
      throw new Error(`open ${layout.name}: ${path} is a ${typeName(type)} map with key ${keySize} B and value ${valueSize} B, ` +
        `this build needs ${typeName(layout.type)} with key ${layout.key.size} B and value ${layout.value.size} B; ${STALE_PIN_HINT}`);
    }
    return m;
  }

  get name(): MapName {
    return this.layout.name;
  }

  /** Whether the map holds no entry: one GET_NEXT_KEY, however large it is. */
  isEmpty(): boolean {
    return !S.mapNextKey(this.fd, null, new Uint8Array(this.info.keySize));
  }

  lookup(key: Uint8Array): Uint8Array | undefined {
    const value = new Uint8Array(this.valueBytes);
    return S.mapLookup(this.fd, key, value) ? value : undefined;
  }

  /** Every entry, sorted by key bytes: LOOKUP_BATCH, or GET_NEXT_KEY + LOOKUP where the type lacks it. */
  entries(): [Uint8Array, Uint8Array][] {
    const { keys, values, n } = this.packed(), ks = this.info.keySize, vs = this.valueBytes;
    return Array.from(keyOrder(keys, ks, n), (i) => [keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs)]);
  }

  /**
   * Every entry, in pieces of packed keys and values valid during the call
   * only, in the kernel's order: a hash map's without a copy of it whole.
   */
  chunks(each: (keys: Uint8Array, values: Uint8Array, n: number) => void): void {
    if (this.batch !== false && this.info.type !== T.LPM_TRIE) { // an LPM trie's read may start over (packed())
      try {
        S.mapLookupAll(this.fd, this.info.keySize, this.valueBytes, each);
        return;
      } catch (e) {
        if (!(e instanceof S.BpfError) || !this.lacksBatch(e)) throw new Error(`read ${this.name}: ${(e as Error).message}`, { cause: e });
      }
    }
    const { keys, values, n } = this.packed();
    each(keys, values, n);
  }

  /** Every entry, packed, in the kernel's order. */
  packed(): Packed {
    const ks = this.info.keySize, vs = this.valueBytes;
    const keys: Uint8Array[] = [], values: Uint8Array[] = [];
    const out = (): Packed => ({ keys: concat(keys), values: concat(values), n: keys.reduce((n, k) => n + k.length, 0) / ks });
    try {
      if (this.batch === false) throw new S.BpfError('MAP_LOOKUP_BATCH', S.ENOTSUPP);
      // The generic batch walk (LPM tries) gives up with EINTR when entries
      // it is stepping over change under it (another process writing): the
      // read starts over, a few times.
      for (let tries = READ_TRIES; ; tries--) {
        keys.length = values.length = 0;
        try {
          S.mapLookupAll(this.fd, ks, vs, (k, v, n) => {
            keys.push(k.slice(0, n * ks));
            values.push(v.slice(0, n * vs));
          });
          return out();
        } catch (e) {
          if (tries <= 1 || !(e instanceof S.BpfError) || e.errno !== S.errno.EINTR) throw e;
        }
      }
    } catch (e) {
      if (!(e instanceof S.BpfError) || !this.lacksBatch(e)) throw new Error(`read ${this.name}: ${(e as Error).message}`, { cause: e });
      this.batch = false;
      keys.length = values.length = 0;
      const key = new Uint8Array(ks);
      for (let prev: Uint8Array | null = null; S.mapNextKey(this.fd, prev, key); prev = key.slice()) {
        const v = this.lookup(key);
        if (!v) continue; // deleted between the two calls: skip it
        keys.push(key.slice());
        values.push(v);
      }
      return out();
    }
  }

  /**
   * Writes n packed entries (values null: deletes them). Returns how many went
   * through and the errno that stopped the rest (0 when none did).
   */
  write(keys: Uint8Array, values: Uint8Array | null, n: number): { done: number; errno: number } {
    if (n === 0) return { done: 0, errno: 0 };
    if (this.batch !== false) {
      this.syscalls++;
      try {
        if (values) S.mapUpdateBatch(this.fd, keys, values, n);
        else S.mapDeleteBatch(this.fd, keys, n);
        this.batch = true;
        return { done: n, errno: 0 };
      } catch (e) {
        if (!(e instanceof S.BpfError)) throw e;
        if (!this.lacksBatch(e)) return { done: e.count, errno: e.errno };
        this.batch = false;
      }
    }
    const ks = this.info.keySize, vs = this.info.valueSize;
    for (let i = 0; i < n; i++) {
      this.syscalls++;
      const key = keys.subarray(i * ks, (i + 1) * ks);
      try {
        if (values) S.mapUpdate(this.fd, key, values.subarray(i * vs, (i + 1) * vs));
        else if (!S.mapDelete(this.fd, key)) return { done: i, errno: S.errno.ENOENT };
      } catch (e) {
        if (e instanceof S.BpfError) return { done: i, errno: e.errno };
        throw e;
      }
    }
    return { done: n, errno: 0 };
  }

  /**
   * Whether a batch call failed because this kernel has no batch ops for the
   * map type: ENOTSUPP/EOPNOTSUPP, or EINVAL from a kernel older than the
   * batch commands (5.6) as long as no batch call has worked on this map. The
   * per-entry ops that follow report any other cause precisely.
   */
  private lacksBatch(e: S.BpfError): boolean {
    return e.count === 0 && (NO_BATCH.has(e.errno) || (e.errno === S.errno.EINVAL && this.batch === undefined));
  }

  /** Why a write stopped, in words a user can act on, after applied ops went through. */
  writeError(op: 'update' | 'delete', errno: number, key: Uint8Array | undefined, applied: number): StoreError {
    const what = `${op} ${this.name}`, cause = new S.BpfError(`MAP_${op.toUpperCase()}_ELEM ${this.name}`, errno);
    if (op === 'update' && (errno === S.errno.E2BIG || errno === S.errno.ENOSPC)) {
      return new MapFullError(this.name, this.info.maxEntries, undefined, false, applied, { cause });
    }
    if (op === 'delete' && errno === S.errno.ENOENT) {
      return new StoreError(`${what}: key ${key ? Buffer.from(key).toString('hex') : '?'} not present: something else changed the map; apply again`, applied, { cause });
    }
    if (errno === S.errno.EPERM || errno === S.errno.EACCES) return new StoreError(`${what}: ${S.errnoName(errno)}: needs root (CAP_BPF)`, applied, { cause });
    return new StoreError(`${what}: ${S.errnoName(errno)}`, applied, { cause });
  }

  close(): void {
    if (this.fd >= 0) S.close(this.fd);
    this.fd = -1;
  }
}

/**
 * A change that does not fit a map: which, its max_entries, the entries it
 * needs (when counted before writing; atOnce: beside the old ones it
 * replaces), and the flag that sizes it.
 */
export class MapFullError extends StoreError {
  readonly map: MapName;
  readonly maxEntries: number;
  readonly needed: number | undefined;
  readonly atOnce: boolean;
  constructor(map: MapName, maxEntries: number, needed: number | undefined, atOnce: boolean, applied: number, options?: ErrorOptions) {
    const flag = sizeFlagOf(map);
    const need = needed === undefined ? '' : `; this change needs ${needed}${atOnce ? ' at once, old and new, until the old ones go' : ''}`;
    super(`update ${map}: map full (max_entries ${maxEntries}${need})${flag ? `; raise ${flag}` : ''}`, applied, options);
    this.name = 'MapFullError';
    this.map = map;
    this.maxEntries = maxEntries;
    this.needed = needed;
    this.atOnce = atOnce;
  }
}

export interface ApplyResult { applied: number; syscalls: number }

/** The compiler-owned maps under a pin root, and read access to the datapath-owned ones. */
export class PinnedStore implements MapStore, ChunkedStore {
  readonly root: string;
  private readonly maps: Map<string, PinnedMap>;
  private readonly state: Map<string, PinnedMap>;
  /** Per map, at least as many entries as it holds; unknown until an apply has read it. Only this store writes them. */
  private readonly bound = new Map<string, number>();

  private constructor(root: string, maps: Map<string, PinnedMap>, state: Map<string, PinnedMap>) {
    this.root = root;
    this.maps = maps;
    this.state = state;
  }

  /** Opens every pinned map; throws when a compiler-owned map is missing or any pin has the wrong layout. */
  static open(root: string, opts: { batch?: false } = {}): PinnedStore {
    const maps = new Map<string, PinnedMap>(), state = new Map<string, PinnedMap>();
    try {
      for (const l of MAPS) {
        const m = PinnedMap.open(root, l, opts.batch);
        if (!m) throw new Error(`open ${l.name}: no map pinned at ${join(root, l.name)}; run \`sluice apply\` first (or check --pin-root)`);
        maps.set(l.name, m);
      }
      for (const l of STATE_MAPS) {
        const m = PinnedMap.open(root, l, opts.batch);
        if (m) state.set(l.name, m);
      }
    } catch (e) {
      for (const m of [...maps.values(), ...state.values()]) m.close();
      throw e;
    }
    return new PinnedStore(root, maps, state);
  }

  private map(name: MapName): PinnedMap {
    const m = this.maps.get(name);
    if (!m) throw new Error(`no map named ${name}`);
    return m;
  }

  /**
   * Applies every op in the order planApply gives (each frontend old or new
   * at every moment). A change that cannot fit is refused before anything is
   * written; a write that fails all the same throws StoreError naming the map
   * and the op, with .applied set.
   */
  apply(diff: MapDiff): ApplyResult {
    const syscalls0 = this.syscalls();
    // Reading the maps to check room costs a dump each: done only when the
    // entries known to be there plus the upserts that may add one might not fit.
    const growth = new Map(diff.sections.map((s) => [s.map.name, this.growthOf(s)]));
    const tight = diff.sections.some((s) => (this.bound.get(s.map.name) ?? Infinity) + growth.get(s.map.name)! > this.maxEntries(s.map.name));
    const live = tight ? new Map(this.entries('sl_svc').map(([k, v]) => [Buffer.from(k).toString('latin1'), v])) : undefined;
    let plan;
    try {
      plan = planApply(diff, (k) => (live ? live.get(Buffer.from(k).toString('latin1')) : this.lookup('sl_svc', k)), tight ? this : undefined);
    } catch (e) {
      if (!(e instanceof NoRoom)) throw e;
      throw new MapFullError(e.map, e.max, e.needed, e.atOnce, 0, { cause: e });
    }
    let applied = 0;
    for (const step of plan.steps) {
      const m = this.map(step.map.name);
      const r = m.write(step.keys, step.values, step.n);
      applied += r.done;
      if (!r.errno) continue;
      this.bound.clear(); // unknown now: the next apply reads the maps
      const ks = step.map.key.size;
      throw m.writeError(step.values ? 'update' : 'delete', r.errno, step.keys.subarray(r.done * ks, (r.done + 1) * ks), applied);
    }
    for (const s of diff.sections) {
      // Exact after a read; else at most that many (an upsert may have replaced a value), and never more than the map holds.
      const at = plan.counts?.get(s.map.name) ?? this.bound.get(s.map.name)! + growth.get(s.map.name)! - deleteCount(s);
      this.bound.set(s.map.name, Math.min(at, this.maxEntries(s.map.name)));
    }
    return { applied, syscalls: this.syscalls() - syscalls0 };
  }

  /**
   * How many entries a section's upserts may add: all of them, but where
   * they would pass the map's size, in a hash map, and are few, only those
   * whose key it does not hold (one lookup each: a one-entry map such as
   * sl_polstate, rewritten by every policy change, is never full by it).
   * An LPM trie's lookup is a longest match, so its upserts all count.
   */
  private growthOf(s: MapDiff['sections'][number]): number {
    const n = upsertCount(s), m = this.map(s.map.name), bound = this.bound.get(s.map.name);
    if (bound === undefined || bound + n <= m.info.maxEntries || n > FEW_LOOKUPS || m.info.type === T.LPM_TRIE) return n;
    const ks = s.map.key.size;
    let added = 0;
    for (let i = 0; i < n; i++) if (!m.lookup(s.upsertKeys.subarray(i * ks, (i + 1) * ks))) added++;
    return added;
  }

  /**
   * Each map's room, known from a reconcile: without it, the first change
   * after a restart to touch a map read sl_svc whole (and counted the maps
   * it touched), once per map, a few ms each.
   */
  reconciled(counts: ReadonlyMap<MapName, number>): void {
    for (const { name } of MAPS) this.bound.set(name, counts.get(name) ?? 0);
  }

  lookup(map: MapName, key: Uint8Array): Uint8Array | undefined {
    return this.map(map).lookup(key);
  }

  entries(map: MapName): [Uint8Array, Uint8Array][] {
    return this.map(map).entries();
  }

  /** A map's entries in pieces, packed, in the kernel's order: no object per entry. */
  chunks(map: MapName, each: (keys: Uint8Array, values: Uint8Array, n: number) => void): void {
    this.map(map).chunks(each);
  }

  count(map: MapName): number {
    return this.map(map).packed().n;
  }

  /** The map's max_entries, as pinned. */
  maxEntries(map: MapName): number {
    return this.map(map).info.maxEntries;
  }

  /** A datapath-owned map (sl_ct, sl_affinity, sl_stats), or undefined when the datapath pins none by that name. */
  stateMap(name: MapName): PinnedMap | undefined {
    return this.state.get(name);
  }

  /** bpf(2) calls made by this store's writes so far. */
  syscalls(): number {
    return [...this.maps.values()].reduce((n, m) => n + m.syscalls, 0);
  }

  close(): void {
    for (const m of [...this.maps.values(), ...this.state.values()]) m.close();
  }
}
