// The `compile` view of a node's maps: frontends with their backends, read
// from map contents alone (MemoryStore today, pinned maps later), never from
// compiler internals, so it shows what the datapath will actually see.
import * as A from '../abi/layouts.generated.ts';
import { compareUtf8 } from '../encode/compareUtf8.ts';
import type { Note, Rejection } from '../encode/records.ts';
import { layoutOf, type MapStore } from '../maps/store.ts';
import { bytesReader, fieldOf, uintReader } from '../abi/fieldReader.ts';
import { textOf } from '../encode/ipv4.ts';
import type { MapName } from '../abi/layouts.generated.ts';

export interface Backend { ip: string; port: number }
export interface Frontend {
  service: string; // "namespace/name"
  type: FrontendType | `kind ${number}`; // the second for a kind this build does not know
  ip: string;
  port: number;
  protocol: string;
  trafficPolicy: 'Cluster' | 'Local';
  backends: Backend[];
  affinitySeconds: number | null;
  sourceRanges: string[] | null;
}
export interface View {
  node: string | null;
  frontends: Frontend[];
  maps: { [map in MapName]?: { entries: number } };
  rejected: Rejection[];
  notes: Note[];
}

export const FRONTEND_TYPES = ['ClusterIP', 'NodePort', 'ExternalIP', 'LoadBalancer'] as const;
export type FrontendType = (typeof FRONTEND_TYPES)[number];
const TYPE_OF_KIND: { [kind: number]: FrontendType } = {
  [A.SL_KIND_CLUSTER_IP]: 'ClusterIP',
  [A.SL_KIND_NODE_PORT]: 'NodePort',
  [A.SL_KIND_EXTERNAL_IP]: 'ExternalIP',
  [A.SL_KIND_LOAD_BALANCER]: 'LoadBalancer',
};
const PROTOCOLS: { [proto: number]: string } = { 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

export function viewOf(store: MapStore, about: { node: string | null; rejected: Rejection[]; notes: Note[] }): View {
  const maps: View['maps'] = {};
  for (const m of [...A.MAPS].sort((a, b) => a.id - b.id)) maps[m.name] = { entries: store.count(m.name) };
  return { node: about.node, frontends: frontendsOf(store), maps, rejected: about.rejected, notes: about.notes };
}

/** Every SCOPE_ALL frontend, sorted by (service, type, ip, port, protocol number). */
export function frontendsOf(store: MapStore): Frontend[] {
  const names = serviceNames(store), backends = backendsBySet(store), ranges = rangesByFrontend(store);
  const svc = svcReader();
  const rows = store.entries('sl_svc').map(([k, v]) => svc(k, v)).filter((s) => s.scope === A.SL_SCOPE_ALL).map((s) => ({
    s,
    frontend: {
      service: names.get(s.bset) ?? '?',
      type: TYPE_OF_KIND[s.kind] ?? `kind ${s.kind}`,
      ip: textOf(s.vip),
      port: s.port,
      protocol: PROTOCOLS[s.proto] ?? `proto ${s.proto}`,
      trafficPolicy: s.flags & A.SL_SVC_LOCAL ? 'Local' : 'Cluster',
      backends: (backends.get(s.bset) ?? []).map((b) => ({ ip: textOf(b.ip), port: b.port })),
      affinitySeconds: s.flags & A.SL_SVC_AFFINITY ? s.affinity : null,
      sourceRanges: s.flags & A.SL_SVC_SRC_RANGES
        ? (ranges.get(`${s.vip}:${s.port}:${s.proto}`) ?? []).map((r) => `${textOf(r.ip)}/${r.prefix}`)
        : null,
    } satisfies Frontend,
  }));
  rows.sort((a, b) => compareUtf8(a.frontend.service, b.frontend.service) ||
    typeRank(a.frontend.type) - typeRank(b.frontend.type) || a.s.vip - b.s.vip || a.s.port - b.s.port || a.s.proto - b.s.proto);
  return rows.map((r) => r.frontend);
}

/** Decodes an sl_svc entry into its fields. */
function svcReader() {
  const { key, value } = layoutOf('sl_svc');
  const [vip, port, proto, scope] = ['vip', 'port', 'proto', 'scope'].map((f) => uintReader(key, f));
  const [bset, affinity, kind, flags] = ['bset', 'affinity', 'kind', 'flags'].map((f) => uintReader(value, f));
  return (k: Uint8Array, v: Uint8Array) => ({
    vip: vip(k), port: port(k), proto: proto(k), scope: scope(k),
    bset: bset(v), affinity: affinity(v), kind: kind(v), flags: flags(v),
  });
}

const typeRank = (t: string) => (FRONTEND_TYPES as readonly string[]).indexOf(t) >>> 0; // unknown kinds last

/** sl_svcname: backend set -> "namespace/name" (NUL padded in the map). */
function serviceNames(store: MapStore): Map<number, string> {
  const l = layoutOf('sl_svcname');
  const bset = uintReader(l.key, 'bset'), name = bytesReader(l.value, 'name');
  const text = new TextDecoder();
  return new Map(store.entries('sl_svcname').map(([k, v]) => {
    const b = name(v), end = b.indexOf(0);
    return [bset(k), text.decode(end < 0 ? b : b.subarray(0, end))];
  }));
}

/** sl_be grouped by backend set once, each group sorted by (ip, port). */
function backendsBySet(store: MapStore): Map<number, { ip: number; port: number }[]> {
  const l = layoutOf('sl_be');
  const bset = uintReader(l.key, 'bset'), ip = uintReader(l.value, 'ip'), port = uintReader(l.value, 'port');
  const groups = Map.groupBy(store.entries('sl_be').map(([k, v]) => ({ set: bset(k), ip: ip(v), port: port(v) })), (b) => b.set);
  for (const g of groups.values()) g.sort((a, b) => a.ip - b.ip || a.port - b.port);
  return groups;
}

/** sl_srcrange grouped by frontend "vip:port:proto", each group sorted by (client, prefix). */
function rangesByFrontend(store: MapStore): Map<string, { ip: number; prefix: number }[]> {
  const l = layoutOf('sl_srcrange');
  const [prefixlen, vip, port, proto, client] = ['prefixlen', 'vip', 'port', 'proto', 'client'].map((f) => uintReader(l.key, f));
  // prefixlen counts every key bit after itself: the frontend's, then the client prefix.
  const prefixEnd = fieldOf(l.key, 'prefixlen').offset + fieldOf(l.key, 'prefixlen').size;
  const frontendBits = 8 * (fieldOf(l.key, 'client').offset - prefixEnd);
  const ranges = store.entries('sl_srcrange').map(([k]) => ({
    frontend: `${vip(k)}:${port(k)}:${proto(k)}`, ip: client(k), prefix: prefixlen(k) - frontendBits,
  }));
  const groups = Map.groupBy(ranges, (r) => r.frontend);
  for (const g of groups.values()) g.sort((a, b) => a.ip - b.ip || a.prefix - b.prefix);
  return groups;
}
