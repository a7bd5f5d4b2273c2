// Which object of a batch makes its replayed diff differ from the recorded
// one. A scratch compiler starts from the state before the batch; then
//  1. for up to EXCLUDE_MAX objects, the batch without one object's change:
//     if that reproduces the recorded hash, that change is the one (exact);
//  2. else each object's own effect (its change alone, then undone): the
//     objects whose effect touches a map that differs are the suspects.
import { createHash } from 'node:crypto';
import { encodeRecords, type Record, type Upsert } from '../encode/schema.ts';
import { Compiler } from '../wasm/host.ts';
import { mapsThatDiffer, type DiffDigest } from './digest.ts';
import type { BatchBoundary } from './format.ts';
import type { Change } from './replayState.ts';

const EXCLUDE_MAX = 64; // each try recompiles the whole batch twice
const EFFECT_MAX = 20000; // each try compiles one object twice

export interface Divergence {
  /** Maps whose upserts, deletes or digest differ. */
  maps: string[];
  /** The object found, or the suspects, by label. */
  objects: string[];
  /** true: replaying the batch without objects[0]'s change gives the recorded diff. */
  exact: boolean;
}

export function blame(node: string | null, before: Map<string, Upsert>, changes: readonly Change[], recorded: BatchBoundary, replayed: DiffDigest): Divergence {
  const maps = mapsThatDiffer(recorded.maps, replayed.maps);
  const scratch = new Compiler({ node });
  scratch.batch(encodeRecords(before.values()));
  const undo = (c: Change): Record => before.get(c.key) ?? { kind: c.record.kind, namespace: c.record.namespace, name: c.record.name, op: 'delete' };
  // Runs records, keeps what f reads of the diff, then puts the state back.
  const tryOn = <T>(records: Record[], f: (d: ReturnType<Compiler['batch']>) => T, undone: Record[]): T => {
    const out = f(scratch.batch(encodeRecords(records)));
    scratch.batch(encodeRecords(undone));
    return out;
  };
  const sha = (d: { bytes: Uint8Array }) => createHash('sha256').update(d.bytes).digest('hex');

  if (changes.length <= EXCLUDE_MAX) {
    for (const c of changes) {
      const others = changes.filter((o) => o !== c);
      if (tryOn(others.map((o) => o.record), sha, others.map(undo)) === recorded.sha256) return { maps, objects: [c.label], exact: true };
    }
  }
  if (changes.length > EFFECT_MAX) return { maps, objects: [], exact: false };
  const suspects = changes.filter((c) => tryOn([c.record], (d) => d.sections.some((s) => maps.includes(s.map.name)), [undo(c)]));
  return { maps, objects: (suspects.length > 0 ? suspects : changes).map((c) => c.label), exact: false };
}
