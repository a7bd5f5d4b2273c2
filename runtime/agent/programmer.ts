// One batch from records to maps: compile, apply, record. The compiler's diff
// goes to the maps as it is, except when the maps may hold something else:
// at start-up (pins left by an earlier agent or `sluice apply`) and after an
// apply failed part way. Then the maps are reconciled to the compiler's whole
// image, which writes only the entries that differ (so an agent restarted on
// an unchanged cluster writes nothing, and sl_ct is never touched). Either
// way the log records the compiler's diff, which is what replay recomputes.
import { MAPS, type MapName } from '../abi/layouts.generated.ts';
import { encodeBatch, type Held, type Refused } from '../encode/schema.ts';
import type { EventLogWriter } from '../log/eventLogWriter.ts';
import { imageStore } from '../maps/imageStore.ts';
import { backendsRemoved, deleteCount, opCount, upsertCount, type MapDiff } from '../maps/mapDiff.ts';
import { reconcile, reconcileImage, type ChunkedStore } from '../maps/reconcile.ts';
import type { MapStore } from '../maps/store.ts';

/** What the programmer needs of a compiler (wasm/host.ts's). */
export interface BatchCompiler {
  batch(records: Uint8Array): MapDiff;
  rebuild(): MapDiff;
}

export type MapOpCounts = { [map in MapName]?: { upserts: number; deletes: number } };

export interface BatchResult {
  /** The compiler's diff, per map. */
  ops: MapOpCounts;
  opCount: number;
  compileMs: number;
  /** How the maps were brought up to date: the diff, a reconcile to the whole image, or not at all (no maps yet, or it failed). */
  mode: 'diff' | 'reconcile' | 'none';
  /** Ops written to the maps (for a reconcile, only the entries that differed). */
  applied: number;
  /** sl_be entries the write deleted (or tried to, when it failed): sockets may be stuck on them. */
  removedBackends: number;
  applyMs: number;
  /** Why applying failed; the maps are then reconciled at the next batch or retry(). */
  error?: string;
  /** Records the ABI could not hold, compiled as deletes (normalize should have rejected them). */
  refused: Refused[];
}

export type Applied = Pick<BatchResult, 'mode' | 'applied' | 'removedBackends' | 'applyMs' | 'error'>;

export class Programmer {
  private readonly compiler: BatchCompiler;
  private readonly log: Pick<EventLogWriter, 'batch'> | undefined;
  /** The maps may differ from the compiler's state by more than the next diff. */
  private stale = true;
  private batches = 0;

  constructor(compiler: BatchCompiler, log?: Pick<EventLogWriter, 'batch'>) {
    this.compiler = compiler;
    this.log = log;
  }

  /** Whether the maps wait for a reconcile (start-up, or a failed apply). */
  get pending(): boolean {
    return this.stale;
  }

  /**
   * Compiles batch n and brings store (when there is one yet) to the new
   * state. Only an apply failure is caught (and reported); anything else
   * (the compiler, the log) throws.
   */
  batch(n: number, records: readonly Held[], store: MapStore | undefined): BatchResult {
    const t0 = performance.now();
    const { bytes, refused } = encodeBatch(records);
    const diff = this.compiler.batch(bytes);
    const first = this.batches++ === 0; // a fresh compiler's first diff is its whole image
    const compileMs = performance.now() - t0;
    const ops = opsOf(diff);
    let applied: Applied | undefined;
    // Before the log: a rotation calls rebuild(), which reuses the diff's memory.
    if (store && first) applied = this.reconcile(store, diff);
    else if (store && !this.stale) applied = this.applyDiff(store, diff);
    this.log?.batch(n, diff);
    if (store && !applied) applied = this.reconcile(store, this.compiler.rebuild()); // stale maps: only the whole image will do
    return { ops, opCount: opCount(diff), compileMs, refused, ...(applied ?? { mode: 'none', applied: 0, removedBackends: 0, applyMs: 0 }) };
  }

  /** Reconciles the maps to the compiler's whole image if they may differ from it (undefined when they cannot). */
  retry(store: MapStore): Applied | undefined {
    return this.stale ? this.reconcile(store, this.compiler.rebuild()) : undefined;
  }

  private applyDiff(store: MapStore, diff: MapDiff): Applied {
    return this.timed('diff', store, () => diff);
  }

  private reconcile(store: MapStore, image: MapDiff): Applied {
    // Empty maps (a first start) take the image as it is: reconcile would copy it whole.
    // Pinned maps are read in packed pieces and compared in place: a restart reads every entry.
    const applied = this.timed('reconcile', store, () => (isEmpty(store) ? image : 'chunks' in store ? reconcileImage(store as MapStore & ChunkedStore, image) : reconcile(store, imageStore(image))));
    if (applied.error === undefined) store.reconciled?.(new Map(image.sections.map((s) => [s.map.name, upsertCount(s)])));
    return applied;
  }

  private timed(mode: 'diff' | 'reconcile', store: MapStore, diffOf: () => MapDiff): Applied {
    const t0 = performance.now();
    let removedBackends = 0;
    try {
      const diff = diffOf();
      removedBackends = backendsRemoved(diff);
      const applied = store.apply(diff).applied;
      this.stale = false;
      return { mode, applied, removedBackends, applyMs: performance.now() - t0 };
    } catch (e) {
      this.stale = true;
      const done = (e as { applied?: number }).applied ?? 0;
      return { mode: 'none', applied: done, removedBackends, applyMs: performance.now() - t0, error: (e as Error).message };
    }
  }
}

/** Stops at the first map with an entry (one read of sl_svc when the maps are in use). */
const isEmpty = (store: MapStore) => MAPS.every((m) => store.count(m.name) === 0);

function opsOf(diff: MapDiff): MapOpCounts {
  const out: MapOpCounts = {};
  for (const s of diff.sections) out[s.map.name] = { upserts: upsertCount(s), deletes: deleteCount(s) };
  return out;
}
