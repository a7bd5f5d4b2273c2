// Reads a cluster snapshot: files as `kubectl get -o yaml|json` prints them.
// A file that cannot be read or parsed is one rejection; the others still
// load. As a source it is its objects, then 'synced' (snapshotEvents): what
// the API server gives a starting agent, through the same pipeline.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { from, type Observable } from '../rx/rx.ts';
import { keyOf, labelOf } from '../encode/objectKey.ts';
import { isIgnored, type Note, type Rejection } from '../encode/records.ts';
import type { KubeEvent, KubeObject } from './events.ts';

export interface Snapshot {
  objects: unknown[]; // in file order, Lists expanded; kinds sluice reads (or cannot tell) only; of one object given twice, the last
  rejected: Rejection[];
  notes: Note[]; // objects given more than once
  ignored: number; // objects of other kinds (Deployment, ConfigMap, ...)
}

type Obj = { readonly [key: string]: unknown };

export function loadSnapshot(paths: readonly string[]): Snapshot {
  const out: Snapshot = { objects: [], rejected: [], notes: [], ignored: 0 };
  for (const path of paths) {
    const reject = (reason: string) => out.rejected.push({ object: `File ${path}`, field: '', reason });
    let docs: unknown[];
    try {
      docs = parseDocuments(readFileSync(path, 'utf8'), path.endsWith('.json'));
    } catch (e) {
      reject(describeError(e));
      continue;
    }
    docs.forEach((doc, i) => {
      const problem = documentProblem(doc);
      if (problem) return reject(`document ${i + 1} ${problem}`);
      for (const obj of expand(doc as Obj)) {
        if (typeof obj === 'string') reject(`document ${i + 1}: ${obj}`);
        else if (isIgnored(obj)) out.ignored++;
        else out.objects.push(obj);
      }
    });
  }
  out.objects = lastCopies(out.objects, out.notes);
  return out;
}

/** The objects as a source: each an upsert, then 'synced'. */
export function snapshotEvents(objects: readonly unknown[]): Observable<KubeEvent> {
  return from<KubeEvent[]>([...objects.map((object): KubeEvent => ({ type: 'upsert', object: object as KubeObject })), { type: 'synced' }]);
}

/** Of an object given more than once (by kind, namespace and name), the last copy, noted; the others in order. */
function lastCopies(objects: unknown[], notes: Note[]): unknown[] {
  const last = new Map<string, number>();
  const keys = objects.map((o, i) => {
    const k = keyOf(o);
    if (!k) return undefined; // no identity to be a duplicate of
    if (last.has(k.key)) notes.push({ object: labelOf(k.ref), field: '', note: 'appears more than once in the input; the last copy is used' });
    last.set(k.key, i);
    return k.key;
  });
  return objects.filter((_, i) => keys[i] === undefined || last.get(keys[i]!) === i);
}

/** JSON for .json files; YAML otherwise, several documents split by `---`, empty ones dropped. */
function parseDocuments(text: string, json: boolean): unknown[] {
  if (json) return [JSON.parse(text)];
  // CORE_SCHEMA keeps timestamps as strings, as the API server wrote them.
  return yaml.loadAll(text, undefined, { schema: yaml.CORE_SCHEMA }).filter((d) => d !== null && d !== undefined);
}

function describeError(e: unknown): string {
  if (e instanceof yaml.YAMLException) return `${e.reason} at line ${e.mark.line + 1}, column ${e.mark.column + 1}`;
  return (e as Error).message; // JSON.parse says "... (line 3 column 1)"; fs names the errno
}

function documentProblem(doc: unknown): string | undefined {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return 'is not a Kubernetes object';
  const kind = (doc as Obj).kind;
  if (typeof kind !== 'string' || kind === '') return 'has no kind';
  return undefined;
}

/**
 * A List (kind List, or ServiceList and friends) -> its items; anything else
 * -> itself. Items of a typed list, as the API returns them, carry no kind or
 * apiVersion: they get the list's. Returns a string for a malformed list.
 */
function expand(doc: Obj): (Obj | string)[] {
  const kind = doc.kind as string;
  if (!kind.endsWith('List')) return [doc];
  if (doc.items === undefined || doc.items === null) return [];
  if (!Array.isArray(doc.items)) return [`${kind} items is not a list`];
  const itemKind = kind === 'List' ? undefined : kind.slice(0, -'List'.length);
  return doc.items.flatMap((item: unknown, j: number): (Obj | string)[] => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return [`${kind} items[${j}] is not a Kubernetes object`];
    const o = item as Obj;
    const filled = itemKind && o.kind === undefined ? { ...o, kind: itemKind, apiVersion: o.apiVersion ?? doc.apiVersion } : o;
    const problem = documentProblem(filled);
    return problem ? [`${kind} items[${j}] ${problem}`] : expand(filled);
  });
}
