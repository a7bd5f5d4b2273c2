// `sluice explain --live`: one side of a flow judged on a node's live maps,
// by the lookups bpf/lib/policy.h makes (pol_verdict, pol_allows), in its
// order, stopping where it stops, each recorded as the compiler's explain
// records its own (map, key bytes in hex, what was found), so that the two
// lists compare entry by entry. Pure: the caller passes the maps' lookup
// (the kernel does the LPM tries' longest match).
import * as A from '../abi/layouts.generated.ts';
import { layoutOf } from '../maps/store.ts';
import { fieldOf } from '../abi/fieldReader.ts';

export type LookupFn = (map: A.MapName, key: Uint8Array) => Uint8Array | undefined;

export interface LiveLookup { map: A.MapName; key: string; found: string | boolean | null }

export interface LiveSide {
  checked: boolean;
  isolated?: boolean;
  allowed?: boolean;
  lookups: LiveLookup[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ipBytes = (ip: string) => Uint8Array.from(ip.split('.').map(Number));
const ipText = (b: Uint8Array) => [...b.subarray(0, 4)].join('.');

interface Ipid { identity: Uint8Array; ns: Uint8Array; group: Uint8Array; kinds: number; flags: number }

const IPID = layoutOf('sl_ipid').value;
const at = (name: string) => fieldOf(IPID, name).offset;

function ipidOf(v: Uint8Array, dir: number): Ipid {
  return {
    identity: v.slice(at('identity'), at('identity') + 4), ns: v.slice(at('ns'), at('ns') + 4),
    group: v.slice(at('group') + 4 * dir, at('group') + 4 * dir + 4), kinds: v[at('kinds') + dir], flags: v[at('flags')],
  };
}

const isZero = (b: Uint8Array) => b.every((x) => x === 0);
const uses = (kinds: number, kind: number) => (kinds & (1 << kind)) !== 0;

/** The name sl_polname holds for a rule id (its 4 bytes as in pol_val), or "#id". */
function ruleName(look: LookupFn, rule: Uint8Array): string {
  const v = look('sl_polname', rule);
  const id = new DataView(rule.buffer, rule.byteOffset).getUint32(0);
  if (!v) return `#${id}`;
  const end = v.indexOf(0);
  return Buffer.from(v.subarray(0, end < 0 ? v.length : end)).toString('utf8');
}

class Replay {
  readonly lookups: LiveLookup[] = [];
  private readonly look: LookupFn;
  private readonly group: Uint8Array;
  private readonly proto: number;
  private readonly port: number;

  constructor(look: LookupFn, group: Uint8Array, proto: number, port: number) {
    this.look = look;
    this.group = group;
    this.proto = proto;
    this.port = port;
  }

  /** One sl_pol lookup: pol_hit. */
  hit(peer: Uint8Array, kind: number): boolean {
    const key = new Uint8Array(layoutOf('sl_pol').key.size);
    const d = new DataView(key.buffer);
    d.setUint32(0, A.SL_POL_PREFIX_PORT, true);
    key.set(this.group, 4);
    key.set(peer, 8);
    key[12] = kind;
    key[13] = this.proto;
    d.setUint16(14, this.port);
    const v = this.look('sl_pol', key);
    this.lookups.push({ map: 'sl_pol', key: hex(key), found: v ? ruleName(this.look, v.subarray(0, 4)) : null });
    return v !== undefined;
  }

  /** pol_hit_cidr: the group's longest prefix holding addr, then its entry. */
  cidr(addr: Uint8Array): boolean {
    const key = new Uint8Array(layoutOf('sl_polcidr').key.size);
    new DataView(key.buffer).setUint32(0, 64, true);
    key.set(this.group, 4);
    key.set(addr, 8);
    const v = this.look('sl_polcidr', key);
    const kind = v?.[0] ?? 0, prefix = v?.subarray(4, 8);
    this.lookups.push({ map: 'sl_polcidr', key: hex(key), found: v ? `${ipText(prefix!)}/${kind - A.SL_PEER_CIDR}` : null });
    return v !== undefined && this.hit(prefix!, kind);
  }

  /** pol_allows for a group that is not 0. */
  allows(peerAddr: Uint8Array, pv: Ipid | undefined, kinds: number): boolean {
    const zero = new Uint8Array(4);
    if (pv && (pv.flags & A.SL_IPID_NODE_SELF)) return true;
    if (uses(kinds, A.SL_PEER_ANY) && this.hit(zero, A.SL_PEER_ANY)) return true;
    if (pv && (pv.flags & A.SL_IPID_POD)) {
      if (uses(kinds, A.SL_PEER_ID) && this.hit(pv.identity, A.SL_PEER_ID)) return true;
      if (uses(kinds, A.SL_PEER_NS) && this.hit(pv.ns, A.SL_PEER_NS)) return true;
      if (uses(kinds, A.SL_PEER_ALL_PODS) && this.hit(zero, A.SL_PEER_ALL_PODS)) return true;
    }
    return uses(kinds, A.SL_PEER_CIDR) && this.cidr(peerAddr);
  }
}

/**
 * One side on the live maps: dir SL_DIR_INGRESS judges the pod at self
 * against peer, SL_DIR_EGRESS self toward peer; local: self is a pod of the
 * node whose maps these are (otherwise that node judges nothing of it).
 */
export function liveSide(look: LookupFn, dir: number, self: string, peer: string, proto: number, port: number, local: boolean): LiveSide {
  const ipidKey = (ip: string) => ipBytes(ip);
  const me = look('sl_ipid', ipidKey(self));
  const lookups: LiveLookup[] = [{ map: 'sl_ipid', key: hex(ipidKey(self)), found: me !== undefined }];
  if (!me || !local) return { checked: false, lookups };
  const mine = ipidOf(me, dir);
  if (isZero(mine.group)) return { checked: true, isolated: false, allowed: true, lookups };
  const pvBytes = look('sl_ipid', ipidKey(peer));
  lookups.push({ map: 'sl_ipid', key: hex(ipidKey(peer)), found: pvBytes !== undefined });
  const r = new Replay(look, mine.group, proto, port);
  const allowed = r.allows(ipBytes(peer), pvBytes && ipidOf(pvBytes, dir), mine.kinds);
  return { checked: true, isolated: true, allowed, lookups: [...lookups, ...r.lookups] };
}
