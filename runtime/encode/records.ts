// Kubernetes objects -> normalized records (schema.ts). This module and the
// normalize*.ts files beside it are the one place that knows both the
// Kubernetes object and the record ABI. An object is taken whole or rejected
// whole, with one Rejection naming the exact field; nothing is half-compiled.
import * as R from '../../compiler/abi/records.ts';
import type { Noter } from './addresses.ts';
import { Invalid, object, requiredString, shown, string, type Obj } from './fields.ts';
import { compareUtf8 } from './compareUtf8.ts';
import { nameProblem, type NameRule } from './names.ts';
import { normalizeEndpointSlice } from './normalizeEndpointSlice.ts';
import { normalizeNetworkPolicy } from './normalizeNetworkPolicy.ts';
import { normalizeNode } from './normalizeNode.ts';
import { normalizePod } from './normalizePod.ts';
import { normalizeService } from './normalizeService.ts';
import type { Kind, Labels, Ref, Upsert } from './schema.ts';
import { labels } from './selectors.ts';

export interface Rejection { object: string; field: string; reason: string }
export interface Note { object: string; field: string; note: string }

type Finding = { object: string; field: string; reason?: string; note?: string };

/** A total order on rejections and notes, for output that does not depend on input order. */
export function compareFindings(a: Finding, b: Finding): number {
  return compareUtf8(a.object, b.object) || compareUtf8(a.field, b.field) ||
    compareUtf8(a.reason ?? a.note ?? '', b.reason ?? b.note ?? '');
}

export interface Normalized {
  /** "Kind ns/name": whom the rejections and notes are about. */
  object: string;
  record?: Upsert;
  rejected: Rejection[];
  notes: Note[];
}

/** "Service default/web", or "Node n1" for a cluster-scoped object; a name
 * longer than any valid one is cut (it may be a megabyte, and goes in logs). */
export function objectName(kind: string, namespace: string, name: string): string {
  return namespace === '' ? `${kind} ${cut(name)}` : `${kind} ${cut(namespace)}/${cut(name)}`;
}

const NAME_MAX = 253; // a DNS-1123 subdomain, the longest name of any kind

const cut = (s: string) => (s.length <= NAME_MAX ? s : `${s.slice(0, 64)}... (${s.length} characters)`);

interface KindSpec {
  kind: Kind;
  apiVersion: string;
  namespaced: boolean;
  /** What the API server demands of metadata.name. */
  name: NameRule;
  /** undefined: valid, but nothing the datapath can use (the body noted why). labels: the object's, as the header check read them. */
  body(o: Obj, note: Noter, labels: Labels): object | undefined;
}

const KINDS: { readonly [kind: string]: KindSpec } = {
  Service: { kind: R.KIND_SERVICE, apiVersion: 'v1', namespaced: true, name: 'DNS-1035 label', body: normalizeService },
  EndpointSlice: { kind: R.KIND_ENDPOINT_SLICE, apiVersion: 'discovery.k8s.io/v1', namespaced: true, name: 'DNS-1123 subdomain', body: normalizeEndpointSlice },
  Node: { kind: R.KIND_NODE, apiVersion: 'v1', namespaced: false, name: 'DNS-1123 subdomain', body: normalizeNode },
  Pod: { kind: R.KIND_POD, apiVersion: 'v1', namespaced: true, name: 'DNS-1123 subdomain', body: normalizePod },
  Namespace: {
    kind: R.KIND_NAMESPACE, apiVersion: 'v1', namespaced: false, name: 'DNS-1123 label',
    body: (_o, _note, labels) => ({ labels }),
  },
  NetworkPolicy: { kind: R.KIND_NETWORK_POLICY, apiVersion: 'networking.k8s.io/v1', namespaced: true, name: 'DNS-1123 subdomain', body: normalizeNetworkPolicy },
};

const group = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/**
 * The spec for an object's kind; undefined for kinds sluice does not read
 * (Deployment, ConfigMap, a CRD that happens to be called Service, ...).
 * A missing apiVersion is taken to be the one we read.
 */
function specOf(o: Obj): KindSpec | undefined {
  const spec = typeof o.kind === 'string' && Object.hasOwn(KINDS, o.kind) ? KINDS[o.kind] : undefined;
  if (!spec || typeof o.apiVersion !== 'string') return spec;
  return group(o.apiVersion) === group(spec.apiVersion) ? spec : undefined;
}

/**
 * The identity of an object of a kind sluice reads, as normalize would name
 * it (a namespaced object without a namespace is in "default"); undefined for
 * other kinds and for objects without a valid name (the API server would
 * refuse them, so they have no identity to update or delete). A Delete of
 * this ref removes whatever record the object had.
 */
export function refOf(obj: unknown): Ref | undefined {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const o = obj as Obj;
  const spec = specOf(o);
  const meta = o.metadata !== null && typeof o.metadata === 'object' ? (o.metadata as Obj) : {};
  if (!spec || typeof meta.name !== 'string' || nameProblem(spec.name, meta.name) !== undefined) return undefined;
  const namespace = namespaceOf(spec, meta);
  if (spec.namespaced && nameProblem('DNS-1123 label', namespace) !== undefined) return undefined;
  return { kind: spec.kind, namespace, name: meta.name };
}

/** "" for cluster-scoped kinds; a namespaced object without one is in "default". */
function namespaceOf(spec: KindSpec | undefined, meta: Obj): string {
  if (!spec?.namespaced) return '';
  return typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
}

/** Whether obj is a well-formed object of a kind sluice has no use for. */
export function isIgnored(obj: unknown): boolean {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return false;
  const o = obj as Obj;
  return typeof o.kind === 'string' && o.kind !== '' && specOf(o) === undefined;
}

export function normalize(obj: unknown): Normalized {
  const isObject = obj !== null && typeof obj === 'object' && !Array.isArray(obj);
  const o = isObject ? (obj as Obj) : {};
  const kindName = typeof o.kind === 'string' && o.kind !== '' ? o.kind : 'Object';
  const meta = o.metadata !== null && typeof o.metadata === 'object' ? (o.metadata as Obj) : {};
  const spec = specOf(o);
  const namespace = namespaceOf(spec, meta);
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : '?';
  const object = objectName(kindName, namespace, name);
  const notes: Note[] = [];
  try {
    if (!isObject) throw new Invalid('', `${shown(obj)} is not a Kubernetes object`);
    if (kindName === 'Object') throw new Invalid('kind', 'missing');
    if (!spec) return { object, rejected: [], notes };
    const labels = checkHeader(o, spec);
    const body = spec.body(o, (field, note) => notes.push({ object, field, note }), labels);
    if (!body) return { object, rejected: [], notes };
    return { object, record: { kind: spec.kind, namespace, name, op: 'upsert', body } as Upsert, rejected: [], notes };
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    return { object, rejected: [{ object, field: e.field, reason: e.reason }], notes: [] };
  }
}

/** The header's checks; returns the labels (read once: a Pod's, a Node's and a Namespace's body holds them). */
function checkHeader(o: Obj, spec: KindSpec): Labels {
  if (typeof o.apiVersion === 'string' && o.apiVersion !== spec.apiVersion) {
    throw new Invalid('apiVersion', `${shown(o.apiVersion)} is not supported; sluice reads ${spec.apiVersion}`);
  }
  string(o.apiVersion, 'apiVersion');
  const meta = object(o.metadata, 'metadata');
  validName(spec.name, requiredString(meta.name, 'metadata.name'), 'metadata.name');
  if (spec.namespaced) {
    const ns = string(meta.namespace, 'metadata.namespace');
    if (ns !== '') validName('DNS-1123 label', ns, 'metadata.namespace');
  }
  return labels(meta.labels, 'metadata.labels'); // checked for every kind: the API server refuses bad labels on any
}

function validName(rule: NameRule, s: string, field: string): void {
  const problem = nameProblem(rule, s);
  if (problem !== undefined) throw new Invalid(field, `${shown(s)} ${problem}`);
}
