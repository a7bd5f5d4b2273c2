// The cluster state a history of events leaves: the latest upsert per object.
import type { Record } from '../../runtime/encode/schema.ts';

const refOf = (r: Record) => `${r.kind}/${r.namespace}/${r.name}`;

export function finalState(batches: Record[][]): Record[] {
  const live = new Map<string, Record>();
  for (const r of batches.flat()) {
    if (r.op === 'upsert') live.set(refOf(r), r);
    else live.delete(refOf(r));
  }
  return [...live.keys()].sort().map((k) => live.get(k)!);
}
