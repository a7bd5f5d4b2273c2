// A reference model of the datapath's frontend lookup and backend pick
// (bpf/lib/lb.h), over map contents: the pinned maps of a loaded datapath
// or the compiler's MemoryStore alike. Written from the C source's contract,
// so a test that compares the kernel's choice with this one checks the hash,
// the slot, chunk and id arithmetic and every byte order in between.
import * as A from '../../runtime/abi/layouts.generated.ts';
import type { StructLayout } from '../../runtime/abi/mapLayout.ts';
import { layoutOf } from '../../runtime/maps/store.ts';
import { fieldOf, uintReader } from '../../runtime/abi/fieldReader.ts';
import { ipBytes, ipText } from '../../testkit/packet.ts';

/** A map lookup: the value bytes, or undefined when the key is absent. */
export type Lookup = (map: A.MapName, key: Uint8Array) => Uint8Array | undefined;

export interface Tuple { saddr: string; daddr: string; sport: number; dport: number; proto: number }

/** Packs named integer fields into a struct's bytes, by the generated layout. */
export function pack(s: StructLayout, values: { [field: string]: number | Uint8Array }): Uint8Array {
  const out = new Uint8Array(s.size);
  for (const [name, v] of Object.entries(values)) {
    const f = fieldOf(s, name);
    if (v instanceof Uint8Array) {
      out.set(v, f.offset);
      continue;
    }
    for (let i = 0; i < f.size; i++) {
      const byte = Math.floor(v / 256 ** i) & 255; // i-th least significant byte
      out[f.offset + (f.bigEndian ? f.size - 1 - i : i)] = byte;
    }
  }
  return out;
}

const M64 = (1n << 64n) - 1n;

function mix64(h: bigint): bigint {
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & M64;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & M64;
  h ^= h >> 33n;
  return h;
}

/** A __be32/__be16 as the C code holds it in a register on a little-endian CPU. */
const asLoaded32 = (ip: string) => BigInt(new DataView(ipBytes(ip).buffer).getUint32(0, true));
const asLoaded16 = (port: number) => BigInt(((port & 255) << 8) | (port >> 8));

/** lb_flow_hash. */
export function flowHash(t: Tuple, seed = 0n): number {
  const addrs = (asLoaded32(t.saddr) << 32n) | asLoaded32(t.daddr);
  const rest = (asLoaded16(t.sport) << 32n) | (asLoaded16(t.dport) << 16n) | BigInt(t.proto);
  return Number(mix64(mix64(addrs ^ seed) ^ rest) & 0xffffffffn);
}

const SNAT_MIN = 32768, SNAT_RANGE = 60999 - SNAT_MIN + 1;

/** snat_probe: the port the datapath tries i-th when SNATing the flow whose SNAT hash is hash. */
export function snatProbe(hash: number, i: number): number {
  const h = i === 0 ? BigInt(hash) : mix64((BigInt(i) << 32n) | BigInt(hash)) & 0xffffffffn;
  return SNAT_MIN + Number(h % BigInt(SNAT_RANGE));
}

export interface Service { bset: number; slots: number; affinity: number; count: number; kind: number; flags: number }

const svcLayout = layoutOf('sl_svc');
const svcFields = ['bset', 'slots', 'affinity', 'count', 'kind', 'flags'] as const;
const svcReaders = svcFields.map((f) => uintReader(svcLayout.value, f));

function svcAt(lookup: Lookup, t: Tuple, scope: number): Service | undefined {
  const v = lookup('sl_svc', pack(svcLayout.key, { vip: ipBytes(t.daddr), port: t.dport, proto: t.proto, scope }));
  if (!v) return undefined;
  const [bset, slots, affinity, count, kind, flags] = svcReaders.map((r) => r(v));
  return { bset, slots, affinity, count, kind, flags };
}

/** lb_frontend: the service t is addressed to; inCluster selects a SCOPE_INTERNAL twin. */
export function frontendOf(lookup: Lookup, t: Tuple, inCluster: boolean): Service | undefined {
  const all = svcAt(lookup, t, A.SL_SCOPE_ALL);
  if (!all || !inCluster || !(all.flags & A.SL_SVC_HAS_INTERNAL)) return all;
  return svcAt(lookup, t, A.SL_SCOPE_INTERNAL) ?? all;
}

const PROBE_SLOTS = 8; // LB_PROBE_SLOTS
const beLayout = layoutOf('sl_be'), mgLayout = layoutOf('sl_maglev');
const beIp = (v: Uint8Array) => ipText(v.subarray(fieldOf(beLayout.value, 'ip').offset));
const bePort = uintReader(beLayout.value, 'port');
const beFlags = uintReader(beLayout.value, 'flags');

export interface Backend { id: number; ip: string; port: number; flags: number }

/** sl_be (bset, id). */
export function backendOf(lookup: Lookup, bset: number, id: number): Backend | undefined {
  const v = lookup('sl_be', pack(beLayout.key, { bset, id }));
  return v && { id, ip: beIp(v), port: bePort(v), flags: beFlags(v) };
}

function slotId(lookup: Lookup, bset: number, slot: number): number {
  const v = lookup('sl_maglev', pack(mgLayout.key, { bset, chunk: Math.floor(slot / A.SL_MAGLEV_CHUNK) }));
  if (!v) return 0;
  const id = fieldOf(mgLayout.value, 'id');
  return new DataView(v.buffer, v.byteOffset).getUint32(id.offset + (slot % A.SL_MAGLEV_CHUNK) * id.elemSize, true);
}

/** lb_rendezvous: the index of the highest mix64(flow hash · id) among the
 * set's ids (slots of them), the first on a tie. */
function rendezvousIndex(lookup: Lookup, s: Service, hash: number): number {
  const v = lookup('sl_maglev', pack(mgLayout.key, { bset: s.bset, chunk: 0 }));
  if (!v) return 0;
  const ids = new DataView(v.buffer, v.byteOffset + fieldOf(mgLayout.value, 'id').offset);
  let best = -1, top = -1n;
  for (let i = 0; i < s.slots; i++) {
    const w = mix64((BigInt(hash) << 32n) | BigInt(ids.getUint32(i * 4, true)));
    if (w > top) [best, top] = [i, w];
  }
  return best;
}

/** lb_pick_hashed: the backend of a new flow (without affinity), or undefined.
 * A set of at most SL_RENDEZVOUS_MAX picks by rendezvous among its ids, and
 * probes on from the winner as a table probes on from the flow's slot. */
export function maglevPick(lookup: Lookup, s: Service, t: Tuple): Backend | undefined {
  if (s.slots === 0) return undefined;
  let slot = s.slots <= A.SL_RENDEZVOUS_MAX ? rendezvousIndex(lookup, s, flowHash(t)) : flowHash(t) % s.slots;
  for (let i = 0; i <= PROBE_SLOTS; i++) {
    const id = slotId(lookup, s.bset, slot);
    const be = id ? backendOf(lookup, s.bset, id) : undefined;
    if (be) return be;
    slot = slot + 1 < s.slots ? slot + 1 : 0;
  }
  return undefined;
}

/** Every backend of a service, by id. */
export function backendsOf(lookup: Lookup, s: Service): Backend[] {
  const ids = new Set<number>();
  for (let slot = 0; slot < s.slots; slot++) ids.add(slotId(lookup, s.bset, slot));
  return [...ids].flatMap((id) => backendOf(lookup, s.bset, id) ?? []).sort((a, b) => a.id - b.id);
}

// Forwarding past the stack (bpf/lib/fwd.h), over a description of the
// node's network: the route lookup the kernel makes for a packet's (new)
// destination, and where the datapath then sends it. Written from the
// kernel's routing rules (local addresses first, then the longest prefix,
// a gateway's neighbour for the L2 addresses) and fwd.h's contract.

/** A local pod: its address and MAC, and the host side of its veth. */
export interface NetPod { ip: string; mac: string; dev: string }
export interface NetRoute { dst: string; via?: string; dev?: string; unreachable?: boolean }
export interface NetNeigh { ip: string; mac: string; dev: string }

/** A node's network, as the datapath tests make it in a namespace of its own. */
export interface NodeNet {
  uplink: { name: string; mac: string; addr: string; mtu?: number }; // the node's interface; addr as a CIDR
  hostMac: string; // every pod veth's host side (Calico gives them all one)
  pods: NetPod[];
  routes: NetRoute[]; // besides the uplink's subnet and the pods' /32s
  neighbours: NetNeigh[]; // on the uplink, besides the pods
  peerPodCidrs: string[]; // other nodes' podCIDRs: sl_podnet with the pods
  unresolved?: string[]; // neighbours (of routes or pods) not resolved yet
}

export type Forward =
  | { via: 'peer' | 'iface'; dev: string; srcMac: string; dstMac: string } // bpf_redirect_peer, bpf_redirect
  | { via: 'neigh'; dev: string; nexthop: string } // bpf_redirect_neigh
  | { via: 'stack'; why: string }; // TC_ACT_OK, SL_STAT_FWD_STACK

const u32 = (ip: string) => new DataView(ipBytes(ip).buffer).getUint32(0);

function inCidr(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/');
  const mask = Number(len) === 0 ? 0 : (~0 << (32 - Number(len))) >>> 0;
  return ((u32(ip) & mask) >>> 0) === ((u32(net) & mask) >>> 0);
}

/** Every route the node has: its uplink's subnet (inCidr masks the address), the pods', the rest. */
export const routesOf = (net: NodeNet): NetRoute[] =>
  [{ dst: net.uplink.addr, dev: net.uplink.name }, ...net.pods.map((p) => ({ dst: `${p.ip}/32`, dev: p.dev })), ...net.routes];

/** Every neighbour the node knows. */
export const neighboursOf = (net: NodeNet): NetNeigh[] =>
  [...net.neighbours, ...net.pods.map((p) => ({ ip: p.ip, mac: p.mac, dev: p.dev }))].filter((n) => !net.unresolved?.includes(n.ip));

/** The MTU of a device of net (1500 unless the uplink's says otherwise). */
const mtuOf = (net: NodeNet, dev: string) => (dev === net.uplink.name ? net.uplink.mtu ?? 1500 : 1500);

/**
 * fwd_route: what the route lookup of dst makes of a packet of len bytes
 * (IP) that arrives with ttl. Too big for the device it would leave by:
 * the kernel's is_skb_forwardable, which lets 4 bytes of a VLAN tag past
 * the MTU (and segments GSO packets, which these are not).
 */
export function forwardOf(net: NodeNet, dst: string, ttl: number, len: number): Forward {
  if (ttl <= 1) return { via: 'stack', why: 'TTL runs out' };
  if (net.uplink.addr.split('/')[0] === dst) return { via: 'stack', why: 'a local address' };
  const r = routesOf(net).filter((x) => inCidr(dst, x.dst)).sort((a, b) => Number(b.dst.split('/')[1]) - Number(a.dst.split('/')[1]))[0];
  if (!r) return { via: 'stack', why: 'no route' };
  if (r.unreachable) return { via: 'stack', why: 'an unreachable route' };
  const nexthop = r.via ?? dst, dev = r.dev!;
  if (len > mtuOf(net, dev) + 4) return { via: 'stack', why: `too big for ${dev}` };
  const n = neighboursOf(net).find((x) => x.ip === nexthop && x.dev === dev);
  if (!n) return { via: 'neigh', dev, nexthop };
  const peer = net.pods.some((p) => p.ip === dst && p.dev === dev);
  return { via: peer ? 'peer' : 'iface', dev, srcMac: dev === net.uplink.name ? net.uplink.mac : net.hostMac, dstMac: n.mac };
}

/** fwd_plain: whether an untranslated packet is forwarded past the stack (then as forwardOf says). */
export function plainForwarded(net: NodeNet, fromPod: boolean, src: string, dst: string, ingressDev: string): boolean {
  const toPod = net.pods.some((p) => p.ip === dst), toPeerPods = net.peerPodCidrs.some((c) => inCidr(dst, c));
  if (!fromPod) return toPod;
  return (toPod || toPeerPods) && net.pods.some((p) => p.ip === src && p.dev === ingressDev);
}
