// One node's state during a replay: the compiler, the maps it has produced,
// and the objects and records they came from. A batch goes through the live
// agent's pipeline (recordBatches, as recordsOf runs it on the batch's events
// followed by 'synced'; then encodeBatch and Compiler.batch), so the same
// events give the same diff.
import { from } from '../rx/rx.ts';
import { keyOf, labelOf, refKey } from '../encode/objectKey.ts';
import { compareFindings, type Note, type Rejection } from '../encode/records.ts';
import { encodeBatch, type Record, type Upsert } from '../encode/schema.ts';
import { deleteCount, type MapDiff } from '../maps/mapDiff.ts';
import { MemoryStore } from '../maps/store.ts';
import type { KubeEvent, KubeObject } from '../sources/events.ts';
import { snapshotEvents } from '../sources/snapshot.ts';
import { recordsOf } from '../streams/recordsOf.ts';
import { Compiler } from '../wasm/host.ts';
import { digestOf, type DiffDigest } from './digest.ts';
import type { MapName } from '../abi/layouts.generated.ts';

/** What one map's ops did to the replayed maps. */
export interface MapChange { map: MapName; added: number; deleted: number; changed: number }

/** A batch's objects as the compiler got them: the latest record per object, in key order. */
export interface Change { key: string; label: string; record: Record }

export interface Compiled {
  changes: Change[];
  rejected: Rejection[];
  notes: Note[];
  maps: MapChange[];
  /** Of the batch's diff; for a snapshot, of the whole image after it. */
  digest: DiffDigest;
}

export class ReplayState {
  readonly node: string | null;
  private compiler!: Compiler;
  /** The replayed maps. */
  store!: MemoryStore;
  /** The latest raw object per key, kinds sluice reads only. */
  private readonly objects = new Map<string, KubeObject>();
  /** What the compiler holds: the latest upsert record per key. */
  private readonly records = new Map<string, Upsert>();
  /** The last batch's keys and what they held before it. */
  private previous = new Map<string, Upsert | undefined>();

  constructor(node: string | null) {
    this.node = node;
    this.reset();
  }

  /** Empty maps and a fresh compiler, as a starting agent has. */
  reset(): void {
    this.compiler = new Compiler({ node: this.node });
    this.store = new MemoryStore();
    this.objects.clear();
    this.records.clear();
    this.previous.clear();
  }

  /** Applies one recorded batch of events. */
  batch(events: readonly KubeEvent[]): Compiled {
    const { changes, rejected, notes } = changesOf(events);
    const diff = this.compiler.batch(encodeBatch(changes.map((c) => c.record)).bytes); // as the agent encodes
    const compiled = { changes, rejected, notes, maps: this.apply(diff), digest: digestOf(diff) };
    this.remember(events, changes);
    return compiled;
  }

  /** Moves to a snapshot's state: its objects, and deletes for every object it
   * does not hold. Nothing changes when the replay already had that state. */
  snapshot(upserts: readonly KubeEvent[]): Compiled {
    const held = new Set(upserts.flatMap((e) => (e.type === 'upsert' ? keyOf(e.object)?.key ?? [] : [])));
    const gone = [...this.objects].filter(([key]) => !held.has(key)).map(([, object]): KubeEvent => ({ type: 'delete', object }));
    const compiled = this.batch([...upserts, ...gone]);
    return { ...compiled, digest: digestOf(this.compiler.rebuild()) };
  }

  /** The records the compiler held before the last batch, for a scratch compiler to start from. */
  recordsBeforeLastBatch(): Map<string, Upsert> {
    const out = new Map(this.records);
    for (const [key, r] of this.previous) {
      if (r) out.set(key, r);
      else out.delete(key);
    }
    return out;
  }

  /** The current objects of the kinds sluice reads. */
  currentObjects(): KubeObject[] {
    return [...this.objects.values()];
  }

  /** What `sluice compile` would report of the current objects: rejections (the compiler's problems among them) and notes. */
  findings(): { rejected: Rejection[]; notes: Note[] } {
    const set = recordsOf(snapshotEvents(this.currentObjects()));
    return { rejected: [...set.rejected, ...this.compiler.problems()].sort(compareFindings), notes: set.notes };
  }

  /** Per map: upserts of keys the maps lacked (added) or held (changed), and deletes. */
  private apply(diff: MapDiff): MapChange[] {
    const out = diff.sections.map((s) => {
      const ks = s.map.key.size;
      let changed = 0;
      for (let at = 0; at < s.upsertKeys.length; at += ks) if (this.store.lookup(s.map.name, s.upsertKeys.subarray(at, at + ks))) changed++;
      return { map: s.map.name, added: s.upsertKeys.length / ks - changed, deleted: deleteCount(s), changed };
    });
    this.store.apply(diff);
    return out;
  }

  private remember(events: readonly KubeEvent[], changes: Change[]): void {
    for (const e of events) {
      const key = e.type === 'synced' ? undefined : keyOf(e.object);
      if (!key) continue;
      if (e.type === 'upsert') this.objects.set(key.key, e.object);
      else this.objects.delete(key.key);
    }
    this.previous = new Map(changes.map((c) => [c.key, this.records.get(c.key)]));
    for (const c of changes) {
      if (c.record.op === 'upsert') this.records.set(c.key, c.record);
      else this.records.delete(c.key);
    }
  }
}

/** The live pipeline, run on one recorded batch's events. */
export function changesOf(events: readonly KubeEvent[]): Pick<Compiled, 'changes' | 'rejected' | 'notes'> {
  const set = recordsOf(from([...events, { type: 'synced' } as const]));
  return { changes: set.records.map((record) => ({ key: refKey(record), label: labelOf(record), record })), rejected: set.rejected, notes: set.notes };
}
