// `sluice explain` for one side of a flow, from the compiled state of this
// node: who the addresses are (sl_ipid as held), the datapath's lookups
// replayed on the group's entries as emitted (the keys, and what each
// finds), and, rule by rule, which allow the flow and which miss it only by
// the peer or only by the port. Answers as JSON text.
import {
  SL_IPID_LOCAL, SL_IPID_NODE_SELF, SL_IPID_POD, SL_PEER_ALL_PODS, SL_PEER_ANY, SL_PEER_CIDR, SL_PEER_ID, SL_PEER_NS,
  SL_POL_PREFIX_PORT,
} from '../abi/layouts';
import { ipString } from '../problems';
import { Identity, peerHasIdentity } from './body';
import { GroupImage, IpidVal } from './emit';
import { Group } from './batch';
import { PolicyEngine } from './engine';
import { Peer, Pod, Policy, Rule } from './model';

function q(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) out += '\\' + String.fromCharCode(c);
    else if (c < 0x20) out += '\\u00' + (c < 16 ? '0' : '') + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

function hex(v: u64, bytes: i32): string {
  let s = '';
  for (let i = bytes - 1; i >= 0; i--) {
    const b = <u32>((v >> (<u64>i * 8)) & 0xff);
    s += (b < 16 ? '0' : '') + b.toString(16);
  }
  return s;
}

const ip4 = (ip: u32): string => ipString(bswap<u32>(ip));

/** Who an address is on this node: as sl_ipid holds it, with the pod's name. */
export function resolveJson(e: PolicyEngine, ip: u32): string {
  const v = e.ipid.has(ip) ? e.ipid.get(ip) : null;
  const pod = e.ids.ipOwners.has(ip) ? e.ids.ipOwners.owner(ip) : '';
  let s = '{"address":' + q(ip4(ip)) + ',"pod":' + (pod.length > 0 ? q(pod) : 'null');
  if (pod.length > 0) s += ',"node":' + q(e.objects.pods.get(pod).node);
  if (v != null) {
    s += ',"identity":' + v.identity.toString() + ',"namespaceId":' + v.ns.toString();
    s += ',"kind":' + q((v.flags & SL_IPID_NODE_SELF) != 0 ? 'node' : (v.flags & SL_IPID_LOCAL) != 0 ? 'local pod' : 'pod');
  } else {
    s += ',"kind":' + q(pod.length > 0 ? 'pod' : 'unknown');
  }
  return s + '}';
}

/** The longest sl_pol entry of the image matching (peer, kind, proto, port), or -1. */
function lpmPol(img: GroupImage, peer: u32, kind: u8, proto: u8, port: u16): i32 {
  const key = ((<u64>peer) << 32) | ((<u64>kind) << 24) | ((<u64>proto) << 16) | <u64>port;
  let best = -1, bestLen: u32 = 0;
  for (let i = 0; i < img.polHi.length; i++) {
    const plen = bswap<u32>(<u32>(unchecked(img.polHi[i]) >> 32));
    const bits = plen - 32;
    const mask = bits >= 64 ? <u64>-1 : ~((<u64>-1) >> <u64>bits);
    if ((unchecked(img.polLo[i]) & mask) == (key & mask) && (best < 0 || plen > bestLen)) { best = i; bestLen = plen; }
  }
  return best;
}

function lpmCidr(img: GroupImage, addr: u32): i32 {
  let best = -1, bestLen: u32 = 0;
  for (let i = 0; i < img.cidrHi.length; i++) {
    const len = bswap<u32>(<u32>(unchecked(img.cidrHi[i]) >> 32)) - 32;
    const prefix = <u32>(unchecked(img.cidrLo[i]) >> 32);
    const ok = len == 0 || (addr >>> (32 - len)) == (prefix >>> (32 - len));
    if (ok && (best < 0 || len + 1 > bestLen)) { best = i; bestLen = len + 1; }
  }
  return best;
}

class Replay {
  lookups: string[] = [];
  allowed: bool = false;

  constructor(public e: PolicyEngine, public g: Group, public proto: u8, public port: u16) {}

  hit(peer: u32, kind: u8): bool {
    const img = this.g.image!;
    const key = hex(((<u64>bswap<u32>(<u32>SL_POL_PREFIX_PORT)) << 32) | <u64>this.g.id, 8) +
      hex(((<u64>peer) << 32) | ((<u64>kind) << 24) | ((<u64>this.proto) << 16) | <u64>this.port, 8);
    const i = lpmPol(img, peer, kind, this.proto, this.port);
    const found = i < 0 ? 'null' : q(this.ruleName(unchecked(img.polRule[i])));
    this.lookups.push('{"map":"sl_pol","key":' + q(key) + ',"found":' + found + '}');
    return i >= 0;
  }

  ruleName(id: u32): string {
    const pols = this.g.policies;
    for (let i = 0; i < pols.length; i++) {
      const rules = this.e.objects.policies.get(pols[i]).rules[this.g.dir];
      for (let j = 0; j < rules.length; j++) if (this.e.ruleId(unchecked(rules[j]).name) == id) return unchecked(rules[j]).name;
    }
    return '#' + id.toString();
  }

  /** pol_allows of POLICY.md §2.2, in the datapath's order, stopping at the first hit. */
  run(peerIp: u32, pv: IpidVal | null): bool {
    const k = <i32>this.g.kinds;
    if (pv != null && (pv.flags & SL_IPID_NODE_SELF) != 0) return true;
    if ((k & (1 << SL_PEER_ANY)) != 0 && this.hit(0, <u8>SL_PEER_ANY)) return true;
    if (pv != null && (pv.flags & SL_IPID_POD) != 0) {
      if ((k & (1 << SL_PEER_ID)) != 0 && this.hit(pv.identity, <u8>SL_PEER_ID)) return true;
      if ((k & (1 << SL_PEER_NS)) != 0 && this.hit(pv.ns, <u8>SL_PEER_NS)) return true;
      if ((k & (1 << SL_PEER_ALL_PODS)) != 0 && this.hit(0, <u8>SL_PEER_ALL_PODS)) return true;
    }
    if ((k & (1 << SL_PEER_CIDR)) != 0) {
      const img = this.g.image!;
      const c = lpmCidr(img, peerIp);
      const key = hex(((<u64>bswap<u32>(64)) << 32) | <u64>this.g.id, 8) + hex(<u64>peerIp, 4);
      const found = c < 0 ? 'null' : q(ip4(bswap<u32>(<u32>unchecked(img.cidrVal[c]))) + '/' + (<u32>(unchecked(img.cidrVal[c]) >> 32) - SL_PEER_CIDR).toString());
      this.lookups.push('{"map":"sl_polcidr","key":' + q(key) + ',"found":' + found + '}');
      if (c >= 0 && this.hit(<u32>unchecked(img.cidrVal[c]), <u8>(unchecked(img.cidrVal[c]) >> 32))) return true;
    }
    return false;
  }
}

function inBlock(ip: u32, p: Peer): bool {
  if (!p.block!.contains(ip)) return false;
  for (let i = 0; i < p.except.length; i++) if (unchecked(p.except[i]).contains(ip)) return false;
  return true;
}

/** Whether one of a rule's peers names the peer address (and pod, if one). */
function peerMatches(e: PolicyEngine, rule: Rule, pol: Policy, ip: u32, peerPod: Pod | null, id: Identity | null): bool {
  if (rule.peers.length == 0) return true;
  for (let i = 0; i < rule.peers.length; i++) {
    const p = unchecked(rule.peers[i]);
    if (p.block != null) { if (inBlock(ip, p)) return true; continue; }
    if (peerPod == null || id == null) continue;
    if (p.namespaces == null && p.pods != null && p.pods!.empty) { if (peerPod.ns == pol.ns) return true; continue; }
    if (p.namespaces != null && (p.pods == null || p.pods!.empty)) { if (p.namespaces!.matches(e.ids.nsLabels(peerPod.ns))) return true; continue; }
    if (peerHasIdentity(p, pol.ns, id, e.ids)) return true;
  }
  return false;
}

function portMatches(rule: Rule, g: Group, proto: u8, port: u16, dst: Pod | null): bool {
  if (rule.ports.length == 0) return true;
  for (let i = 0; i < rule.ports.length; i++) {
    const s = unchecked(rule.ports[i]);
    if (s.proto != proto) continue;
    if (s.name.length > 0) {
      if (g.dir == 0) {
        for (let j = 0; j < g.resolved.length; j++) {
          const r = unchecked(g.resolved[j]);
          if (r.name == s.name && r.proto == proto && r.port == port) return true;
        }
      } else if (dst != null && dst.networked && dst.resolve(s.name, proto) == <i32>port) {
        return true;
      }
      continue;
    }
    if (s.port == 0) return true;
    const end = s.endPort > s.port ? s.endPort : s.port;
    if (port >= s.port && port <= end) return true;
  }
  return false;
}

function podAt(e: PolicyEngine, ip: u32): Pod | null {
  if (!e.ids.ipOwners.has(ip)) return null;
  const key = e.ids.ipOwners.owner(ip);
  return e.objects.pods.has(key) ? e.objects.pods.get(key) : null;
}

/** One side on this node: dir 0 ingress of the pod at self, from peer; 1 egress of self, to peer. */
export function explainSideJson(e: PolicyEngine, dir: i32, self: u32, peer: u32, proto: u8, port: u16): string {
  const me = e.ipid.has(self) ? e.ipid.get(self) : null;
  const lookups: string[] = ['{"map":"sl_ipid","key":' + q(hex(<u64>self, 4)) + ',"found":' + (me != null ? 'true' : 'false') + '}'];
  let s = '{"self":' + resolveJson(e, self) + ',"peer":' + resolveJson(e, peer);
  const pod = podAt(e, self);
  const here = pod != null && pod.node == e.node && e.node.length > 0;
  if (me == null || !here) return s + ',"checked":false,"lookups":[' + lookups.join(',') + ']}';
  const gid = dir == 0 ? me.g0 : me.g1;
  const gkeys = e.podGroups.has(pod!.key) ? e.podGroups.get(pod!.key) : null;
  if (gid == 0 || gkeys == null || gkeys[dir].length == 0) {
    return s + ',"checked":true,"isolated":false,"allowed":true,"policies":[],"allowedBy":[],"misses":[],"lookups":[' + lookups.join(',') + ']}';
  }
  const g = e.groups.get(gkeys[dir]);
  const pv = e.ipid.has(peer) ? e.ipid.get(peer) : null;
  lookups.push('{"map":"sl_ipid","key":' + q(hex(<u64>peer, 4)) + ',"found":' + (pv != null ? 'true' : 'false') + '}');
  const replay = new Replay(e, g, proto, port);
  const allowed = g.image != null ? replay.run(peer, pv) : pv != null && (pv.flags & SL_IPID_NODE_SELF) != 0;
  for (let i = 0; i < replay.lookups.length; i++) lookups.push(replay.lookups[i]);
  const peerPod = podAt(e, peer);
  const id = peerPod != null ? e.ids.identityOf(peerPod.key) : null;
  const dst = dir == 0 ? pod! : peerPod;
  const by: string[] = [], misses: string[] = [];
  for (let i = 0; i < g.policies.length; i++) {
    const pol = e.objects.policies.get(g.policies[i]);
    const rules = pol.rules[dir];
    for (let j = 0; j < rules.length; j++) {
      const r = unchecked(rules[j]);
      const peerOk = peerMatches(e, r, pol, peer, peerPod, id);
      const portOk = portMatches(r, g, proto, port, dst);
      if (peerOk && portOk) by.push(q(r.name));
      else if (peerOk) misses.push('{"rule":' + q(r.name) + ',"matched":"peer","missed":"port"}');
      else if (portOk) misses.push('{"rule":' + q(r.name) + ',"matched":"port","missed":"peer"}');
    }
  }
  const pols: string[] = [];
  for (let i = 0; i < g.policies.length; i++) pols.push(q(g.policies[i]));
  return s + ',"checked":true,"isolated":true,"allowed":' + (allowed ? 'true' : 'false') + ',"group":' + g.id.toString() +
    ',"policies":[' + pols.join(',') + '],"allowedBy":[' + by.join(',') + '],"misses":[' + (by.length > 0 ? '' : misses.join(',')) +
    '],"lookups":[' + lookups.join(',') + ']}';
}
