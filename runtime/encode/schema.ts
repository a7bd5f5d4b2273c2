// The normalized records of compiler/abi/records.ts, as TypeScript types with
// one codec each. Field order here is the byte order on the wire.
import * as R from '../../compiler/abi/records.ts';
import { cidr, flagged, ip, list, Reader, str, struct, u16, u32, u8, Writer, type Codec } from './codec.ts';
import type { Cidr, Ip } from './ip.ts';

export type Labels = [key: string, value: string][];
const labels: Codec<Labels> = list<[string, string]>({
  write(w, kv) { str.write(w, kv[0]); str.write(w, kv[1]); }, // not destructured: that iterates the pair, unoptimized
  read: (r) => [str.read(r), str.read(r)],
});

export interface Selector {
  matchLabels: Labels;
  matchExpressions: { key: string; op: number; values: string[] }[];
}
const selector: Codec<Selector> = struct<Selector>({
  matchLabels: labels,
  matchExpressions: list(struct({ key: str, op: u8, values: list(str) })),
});

export interface ServicePort { name: string; proto: number; port: number; nodePort: number; targetPort: number; targetPortName: string }
export interface ServiceBody {
  type: number; flags: number; healthCheckNodePort: number; affinityTimeout: number;
  /** metadata.creationTimestamp in seconds, 0 when unset: the older of two Services claiming a frontend keeps it. */
  created: number;
  clusterIPs: Ip[]; externalIPs: Ip[]; loadBalancerIPs: Ip[]; sourceRanges: Cidr[]; ports: ServicePort[];
}
const service = struct<ServiceBody>({
  type: u8, flags: u8, healthCheckNodePort: u16, affinityTimeout: u32, created: u32,
  clusterIPs: list(ip), externalIPs: list(ip), loadBalancerIPs: list(ip), sourceRanges: list(cidr),
  ports: list(struct<ServicePort>({ name: str, proto: u8, port: u16, nodePort: u16, targetPort: u16, targetPortName: str })),
});

export interface SlicePort { name: string; proto: number; port: number }
export interface Endpoint { address: Ip; conditions: number; nodeName: string; zone: string; forZones: string[] }
export interface SliceBody { serviceName: string; addressType: number; ports: SlicePort[]; endpoints: Endpoint[] }
const slice = struct<SliceBody>({
  serviceName: str, addressType: u8,
  ports: list(struct<SlicePort>({ name: str, proto: u8, port: u16 })),
  endpoints: list(struct<Endpoint>({ address: ip, conditions: u8, nodeName: str, zone: str, forZones: list(str) })),
});

export interface NodeBody { addresses: { type: number; ip: Ip }[]; podCIDRs: Cidr[]; labels: Labels }
const node = struct<NodeBody>({ addresses: list(struct({ type: u8, ip })), podCIDRs: list(cidr), labels });

export interface ContainerPort { name: string; proto: number; port: number }
export interface PodBody { nodeName: string; flags: number; podIPs: Ip[]; labels: Labels; ports: ContainerPort[] }
const pod = struct<PodBody>({
  nodeName: str, flags: u8, podIPs: list(ip), labels,
  ports: list(struct<ContainerPort>({ name: str, proto: u8, port: u16 })),
});

export interface NamespaceBody { labels: Labels }
const namespace = struct<NamespaceBody>({ labels });

export interface PolicyPeer { pods?: Selector; namespaces?: Selector; ipBlock?: { cidr: Cidr; except: Cidr[] } }
export interface PolicyPort { proto: number; port: number; endPort: number; portName: string }
export interface PolicyRule { peers: PolicyPeer[]; ports: PolicyPort[] }
export interface PolicyBody { podSelector: Selector; policyTypes: number; ingress: PolicyRule[]; egress: PolicyRule[] }
const rule = struct<PolicyRule>({
  peers: list(flagged<PolicyPeer>({
    pods: [R.PEER_PODS, selector],
    namespaces: [R.PEER_NAMESPACES, selector],
    ipBlock: [R.PEER_IPBLOCK, struct({ cidr, except: list(cidr) })],
  })),
  ports: list(struct<PolicyPort>({ proto: u8, port: u16, endPort: u16, portName: str })),
});
const policy = struct<PolicyBody>({ podSelector: selector, policyTypes: u8, ingress: list(rule), egress: list(rule) });

interface Bodies {
  [R.KIND_SERVICE]: ServiceBody;
  [R.KIND_ENDPOINT_SLICE]: SliceBody;
  [R.KIND_NODE]: NodeBody;
  [R.KIND_POD]: PodBody;
  [R.KIND_NAMESPACE]: NamespaceBody;
  [R.KIND_NETWORK_POLICY]: PolicyBody;
}
export type Kind = keyof Bodies;

const bodies: { [K in Kind]: Codec<Bodies[K]> } = {
  [R.KIND_SERVICE]: service,
  [R.KIND_ENDPOINT_SLICE]: slice,
  [R.KIND_NODE]: node,
  [R.KIND_POD]: pod,
  [R.KIND_NAMESPACE]: namespace,
  [R.KIND_NETWORK_POLICY]: policy,
};

export const KIND_NAMES: { [K in Kind]: string } = {
  [R.KIND_SERVICE]: 'Service',
  [R.KIND_ENDPOINT_SLICE]: 'EndpointSlice',
  [R.KIND_NODE]: 'Node',
  [R.KIND_POD]: 'Pod',
  [R.KIND_NAMESPACE]: 'Namespace',
  [R.KIND_NETWORK_POLICY]: 'NetworkPolicy',
};

/** An object's identity: kind, namespace ("" for cluster-scoped kinds) and name. */
export interface Ref { kind: Kind; namespace: string; name: string }

export type Upsert = { [K in Kind]: { kind: K; namespace: string; name: string; op: 'upsert'; body: Bodies[K] } }[Kind];
export type Delete = Ref & { op: 'delete' };
export type Record = Upsert | Delete;
/** An upsert already in its ABI bytes, chunk[at, at + length): how a record waits for its batch (streams/holdRecords.ts). */
export type Encoded = Ref & { op: 'encoded'; chunk: Uint8Array; at: number; length: number };
/** A record as a batch holds it. */
export type Held = Record | Encoded;

export function writeRecord(w: Writer, rec: Record): void {
  const start = w.length;
  w.u32(0);
  w.u8(rec.kind);
  w.u8(rec.op === 'upsert' ? R.OP_UPSERT : R.OP_DELETE);
  w.u16(0);
  str.write(w, rec.namespace);
  str.write(w, rec.name);
  if (rec.op === 'upsert') (bodies[rec.kind] as Codec<unknown>).write(w, rec.body);
  w.patchU32(start, w.length - start);
}

function writeHeld(w: Writer, rec: Held): void {
  if (rec.op === 'encoded') w.bytes(rec.chunk.subarray(rec.at, rec.at + rec.length));
  else writeRecord(w, rec);
}

export function encodeRecords(recs: Iterable<Held>): Uint8Array {
  const w = new Writer();
  for (const r of recs) writeHeld(w, r);
  return w.finish();
}

/** A record the ABI could not hold, and why. */
export interface Refused { ref: Ref; reason: string }

/**
 * encodeRecords for a batch that must go through: a record the ABI cannot
 * hold (a list or string over 65,535) becomes the delete of its object and is
 * returned as refused, rather than stopping the batch, and with it the agent
 * on every restart. normalize rejects such objects, naming the field, so
 * this is a last resort.
 */
export function encodeBatch(recs: readonly Held[]): { bytes: Uint8Array; refused: Refused[] } {
  try {
    return { bytes: encodeRecords(recs), refused: [] };
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
  }
  const w = new Writer(), refused: Refused[] = [];
  for (const r of recs) {
    const at = w.length;
    try {
      writeHeld(w, r);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      w.length = at; // drop what was written of it
      const ref: Ref = { kind: r.kind, namespace: r.namespace, name: r.name };
      writeRecord(w, { ...ref, op: 'delete' });
      refused.push({ ref, reason: e.message });
    }
  }
  return { bytes: w.finish(), refused };
}

export function decodeRecords(buf: Uint8Array): Record[] {
  const out: Record[] = [];
  for (let at = 0; at < buf.length;) {
    const r = new Reader(buf, at);
    const size = r.u32(), kind = r.u8() as Kind, op = r.u8();
    r.u16();
    if (!(kind in bodies)) throw new RangeError(`record at byte ${at}: unknown kind ${kind}`);
    if (size < R.RECORD_HEADER_SIZE || at + size > buf.length) throw new RangeError(`record at byte ${at}: bad size ${size}`);
    const namespace = str.read(r), name = str.read(r);
    if (op === R.OP_DELETE) out.push({ kind, namespace, name, op: 'delete' });
    else out.push({ kind, namespace, name, op: 'upsert', body: bodies[kind].read(r) } as Upsert);
    if (r.offset !== at + size) throw new RangeError(`record at byte ${at}: ${size} bytes declared, ${r.offset - at} read`);
    at += size;
  }
  return out;
}
