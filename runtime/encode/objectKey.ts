// An object's identity in an event stream: what "the latest state per object"
// is keyed by, and the order a snapshot lists objects in.
import { compareUtf8 } from './compareUtf8.ts';
import { objectName, refOf } from './records.ts';
import { KIND_NAMES, type Ref } from './schema.ts';

export interface ObjectKey {
  /** "kind/namespace/name", as normalizeEvents keys records: an upsert and the delete of one object share it. */
  key: string;
  ref: Ref;
}

/** "kind/namespace/name" (names and namespaces hold no "/"). */
export const refKey = (r: Ref): string => `${r.kind}/${r.namespace}/${r.name}`;

/** undefined for kinds sluice does not read and for objects without a name. */
export function keyOf(obj: unknown): ObjectKey | undefined {
  const ref = refOf(obj);
  return ref && { key: refKey(ref), ref };
}

/** "Service shop/web", "Node node-a": how logs and replay name an object. */
export const labelOf = (r: Ref): string => objectName(KIND_NAMES[r.kind], r.namespace, r.name);

/** By (kind, namespace, name), the order of the compiler's records. */
export function compareRefs(a: Ref, b: Ref): number {
  return a.kind - b.kind || compareUtf8(a.namespace, b.namespace) || compareUtf8(a.name, b.name);
}
