// Kubernetes objects written by hand, shaped like `kubectl get -o json`
// output, for unit tests of the compile path. Each builder takes the fields a
// test cares about in Kubernetes' own terms and fills in only the header.
import { compileObjects } from '../../runtime/cli/compile.ts';
import type { Record } from '../../runtime/encode/schema.ts';
import { snapshotEvents } from '../../runtime/sources/snapshot.ts';
import { recordsOf } from '../../runtime/streams/recordsOf.ts';
import type { Frontend, View } from '../../runtime/view/frontends.ts';

export type Json = { [key: string]: unknown };

/** The records the one pipeline makes of these objects as a snapshot: upserts, in key order. */
export const recordsFor = (objects: unknown[]): Record[] => recordsOf(snapshotEvents(objects)).records;

/** The delete of a record's object. */
export const deleteOf = (r: Record): Record => ({ kind: r.kind, namespace: r.namespace, name: r.name, op: 'delete' });

/** "ns/name" -> metadata; "name" alone is in namespace default. */
function meta(nsName: string, labels?: Json): Json {
  const [namespace, name] = nsName.includes('/') ? nsName.split('/', 2) : ['default', nsName];
  return { name, namespace, ...(labels ? { labels } : {}) };
}

/** A v1 Service: spec (and status) exactly as given. */
export function svc(nsName: string, spec: Json, status?: Json): Json {
  return { apiVersion: 'v1', kind: 'Service', metadata: meta(nsName), spec, ...(status ? { status } : {}) };
}

/** status of a LoadBalancer Service with these ingress entries (an IP string, or the entry itself). */
export function lbStatus(...ingress: (string | Json)[]): Json {
  return { loadBalancer: { ingress: ingress.map((i) => (typeof i === 'string' ? { ip: i } : i)) } };
}

export interface SlicePort { name?: string; port: number; protocol?: string }

/** A discovery.k8s.io/v1 IPv4 EndpointSlice of Service `service` (same namespace as nsName). */
export function slice(nsName: string, service: string, ports: SlicePort[], endpoints: Json[]): Json {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: meta(nsName, { 'kubernetes.io/service-name': service }),
    addressType: 'IPv4', ports, endpoints,
  };
}

export interface Conditions { ready?: boolean; serving?: boolean; terminating?: boolean }

/** One endpoint: its address, optional node, and only the conditions given (the others stay unset, i.e. nil). */
export function ep(ip: string, nodeName?: string, conditions: Conditions = {}): Json {
  return { addresses: [ip], conditions, ...(nodeName ? { nodeName } : {}) };
}

/** A v1 Node with an InternalIP and any further [type, address] pairs. */
export function node(name: string, internalIP: string, more: [type: string, address: string][] = []): Json {
  const addresses = [{ type: 'InternalIP', address: internalIP }, ...more.map(([type, address]) => ({ type, address }))];
  return { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {}, status: { addresses } };
}

/** The view `sluice compile --node` prints for these objects. */
export function viewFor(objects: unknown[], nodeName: string): View {
  const results = compileObjects(objects, nodeName);
  if (results.length !== 1) throw new Error(`expected one node result, got ${results.length}`);
  return results[0].view;
}

/** A frontend's identity in the view: "type ip:port/protocol". */
export const frontendKey = (f: Pick<Frontend, 'type' | 'ip' | 'port' | 'protocol'>) => `${f.type} ${f.ip}:${f.port}/${f.protocol}`;

/** The frontends of one service, keyed by frontendKey, with service and key fields left out. */
export function frontsOf(view: View, service: string): { [key: string]: Omit<Frontend, 'service' | 'type' | 'ip' | 'port' | 'protocol'> } {
  const out: { [key: string]: Omit<Frontend, 'service' | 'type' | 'ip' | 'port' | 'protocol'> } = {};
  for (const f of view.frontends.filter((x) => x.service === service)) {
    const { service: _s, type: _t, ip: _i, port: _p, protocol: _r, ...rest } = f;
    out[frontendKey(f)] = rest;
  }
  return out;
}

/** [ip, port] pairs as the view lists backends. */
export const bes = (...pairs: [ip: string, port: number][]) => pairs.map(([ip, port]) => ({ ip, port }));
