// The NetworkPolicy lookups the datapath will make (POLICY.md §2.2, as laid
// out in bpf/include/sluice_abi.h), over one node's compiled maps: a small
// model written from the header, to read the compiler's output the way the
// kernel will and compare it with the reference evaluator.
import * as A from '../../runtime/abi/layouts.generated.ts';
import type { MapStore } from '../../runtime/maps/store.ts';
import { parseU32 } from '../../runtime/encode/ipv4.ts';
import type { MapName } from '../../runtime/abi/layouts.generated.ts';

export interface Ipid { identity: number; ns: number; group: [number, number]; kinds: [number, number]; flags: number }

const PROTO: { [p: string]: number } = { TCP: 6, UDP: 17, SCTP: 132 };

interface LpmEntry { plen: number; key: Uint8Array; value: Uint8Array }

/** One node's policy maps, parsed once. */
export class NodePolicy {
  readonly active: boolean;
  private readonly ipid = new Map<number, Ipid>();
  private readonly pol: LpmEntry[];
  private readonly cidr: LpmEntry[];

  constructor(store: MapStore) {
    this.active = store.entries('sl_polstate').some(([, v]) => (new DataView(v.buffer, v.byteOffset).getUint32(4, true) & A.SL_POLSTATE_ANY_POLICY) !== 0);
    for (const [k, v] of store.entries('sl_ipid')) {
      const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
      this.ipid.set(new DataView(k.buffer, k.byteOffset).getUint32(0), {
        identity: d.getUint32(0), ns: d.getUint32(4), group: [d.getUint32(8), d.getUint32(12)],
        kinds: [d.getUint8(16), d.getUint8(17)], flags: d.getUint8(18),
      });
    }
    const lpm = (map: MapName) => store.entries(map).map(([key, value]) => ({ plen: new DataView(key.buffer, key.byteOffset).getUint32(0, true), key, value }));
    this.pol = lpm('sl_pol');
    this.cidr = lpm('sl_polcidr');
  }

  lookupIpid(ip: string): Ipid | undefined { return this.ipid.get(parseU32(ip)); }

  /** The longest entry matching the first `bits` bits after prefixlen of key. */
  private static longest(entries: LpmEntry[], key: Uint8Array): LpmEntry | undefined {
    let best: LpmEntry | undefined;
    for (const e of entries) {
      if (best && e.plen <= best.plen) continue;
      let ok = true;
      for (let bit = 0; bit < e.plen && ok; bit++) {
        const byte = 4 + (bit >> 3), mask = 0x80 >> (bit & 7);
        ok = (e.key[byte] & mask) === (key[byte] & mask);
      }
      if (ok) best = e;
    }
    return best;
  }

  /** sl_pol hit for (group, peer, kind, proto, port): the rule id, or 0. */
  hit(group: number, peer: number, kind: number, proto: number, port: number): number {
    const key = new Uint8Array(16);
    const d = new DataView(key.buffer);
    d.setUint32(0, A.SL_POL_PREFIX_PORT, true);
    d.setUint32(4, group);
    d.setUint32(8, peer >>> 0);
    d.setUint8(12, kind);
    d.setUint8(13, proto);
    d.setUint16(14, port);
    const e = NodePolicy.longest(this.pol, key);
    return e ? new DataView(e.value.buffer, e.value.byteOffset).getUint32(0) : 0;
  }

  /** pol_allows of POLICY.md §2.2: whether group g admits the peer. */
  allows(g: number, kinds: number, peerIp: string, pv: Ipid | undefined, protocol: string, port: number): boolean {
    if (g === 0 || (pv && (pv.flags & A.SL_IPID_NODE_SELF))) return true;
    const proto = PROTO[protocol];
    if (kinds & (1 << A.SL_PEER_ANY) && this.hit(g, 0, A.SL_PEER_ANY, proto, port)) return true;
    if (pv && (pv.flags & A.SL_IPID_POD)) {
      if (kinds & (1 << A.SL_PEER_ID) && this.hit(g, pv.identity, A.SL_PEER_ID, proto, port)) return true;
      if (kinds & (1 << A.SL_PEER_NS) && this.hit(g, pv.ns, A.SL_PEER_NS, proto, port)) return true;
      if (kinds & (1 << A.SL_PEER_ALL_PODS) && this.hit(g, 0, A.SL_PEER_ALL_PODS, proto, port)) return true;
    }
    if (kinds & (1 << A.SL_PEER_CIDR)) {
      const key = new Uint8Array(12);
      const d = new DataView(key.buffer);
      d.setUint32(0, 64, true);
      d.setUint32(4, g);
      d.setUint32(8, parseU32(peerIp));
      const c = NodePolicy.longest(this.cidr, key);
      if (c) {
        const v = new DataView(c.value.buffer, c.value.byteOffset);
        if (this.hit(g, v.getUint32(4), v.getUint8(0), proto, port)) return true;
      }
    }
    return false;
  }
}

export interface MapFlow { src: string; dst: string; protocol: string; port: number }

/** A flow's verdict from the maps: the source's egress on the source's node,
 * the destination's ingress on the destination's node (each a local pod
 * there, or not checked). A pod reaching itself is allowed. */
export function mapVerdict(flow: MapFlow, srcNode: NodePolicy | undefined, dstNode: NodePolicy | undefined): { egress: boolean; ingress: boolean } {
  if (flow.src === flow.dst) return { egress: true, ingress: true };
  const side = (n: NodePolicy | undefined, self: string, peer: string, dir: 0 | 1) => {
    if (!n || !n.active) return true;
    const me = n.lookupIpid(self);
    if (!me || !(me.flags & A.SL_IPID_LOCAL)) return true;
    return n.allows(me.group[dir], me.kinds[dir], peer, n.lookupIpid(peer), flow.protocol, flow.port);
  };
  return { egress: side(srcNode, flow.src, flow.dst, A.SL_DIR_EGRESS as 1), ingress: side(dstNode, flow.dst, flow.src, A.SL_DIR_INGRESS as 0) };
}
