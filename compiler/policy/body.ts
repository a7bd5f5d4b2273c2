// A policy group's entries (doc/policy.md): every rule of the group's policies
// for its direction, as sl_pol keys without the group id, and the ipBlock
// prefixes of its sl_polcidr trie. Peers expand no further than they name:
// no peer is ANY, `podSelector: {}` alone the policy's namespace, a bare or
// empty-pod namespaceSelector its namespaces (ALL_PODS when empty), anything
// naming pods the label identities it matches, ipBlock the trie's prefixes
// inside the block and outside its excepts.
import {
  SL_PEER_ALL_PODS, SL_PEER_ANY, SL_PEER_CIDR, SL_PEER_ID, SL_PEER_NS, SL_POL_PREFIX_ANY_PROTO, SL_POL_PREFIX_PORT,
  SL_POL_PREFIX_PROTO,
} from '../abi/layouts';
import { Cidr4, Labels, NamedPort, Peer, Pod, Policy, PortSpec, Rule } from './model';

/** A label identity: the pods of one namespace alike in the labels and port
 * names the cluster's policies can tell apart. */
export class Identity {
  members: i32 = 0;
  constructor(public key: string, public ns: string, public labels: Labels, public ports: StaticArray<NamedPort>) {}

  resolve(name: string, proto: u8): i32 {
    for (let i = 0; i < this.ports.length; i++) {
      const p = unchecked(this.ports[i]);
      if (p.name == name && p.proto == proto) return <i32>p.port;
    }
    return -1;
  }
}

/** What a body reads from the rest of the cluster: ids by name, and the sets to expand over. */
export interface World {
  identities(): Identity[]; // sorted by key
  identitiesIn(ns: string): Identity[]; // sorted by key
  namespaces(): string[]; // sorted
  nsLabels(ns: string): Labels;
  identityId(i: Identity): u32;
  nsId(ns: string): u32;
  pods(): Pod[]; // networked pods, sorted by key
}

export const USES_IDENTITIES: u8 = 1;
export const USES_NAMESPACES: u8 = 2;
export const USES_PODS: u8 = 4;

/** One sl_pol entry of a group: prefixlen · (peer, kind, proto, port) packed as the key's last 8 bytes. */
export class Body {
  plen: u8[] = [];
  tail: u64[] = [];
  rules: Rule[] = [];
  cidrs: Cidr4[] = []; // the trie, sorted by (addr, len), unique
  cidrSeen: Set<u64> = new Set(); // addr << 8 | len of each of cidrs
  kinds: u8 = 0;
  uses: u8 = 0;

  push(plen: u8, peer: u32, kind: u8, proto: u8, port: u16, rule: Rule): void {
    this.plen.push(plen);
    this.tail.push(((<u64>peer) << 32) | ((<u64>kind) << 24) | ((<u64>proto) << 16) | <u64>port);
    this.rules.push(rule);
    this.kinds |= <u8>1 << (kind >= <u8>SL_PEER_CIDR ? <u8>SL_PEER_CIDR : kind);
  }
}

/** A port prefix: prefixlen, proto, port. */
class PortPrefix {
  constructor(public plen: u8, public proto: u8, public port: u16) {}
}

function rangePrefixes(lo: u32, hi: u32, proto: u8, out: PortPrefix[]): void {
  while (lo <= hi) {
    let k: u32 = 0;
    while (k < 16 && (lo & ((<u32>2 << k) - 1)) == 0 && lo + (<u32>2 << k) - 1 <= hi) k++;
    out.push(new PortPrefix(<u8>(SL_POL_PREFIX_PORT - <i32>k), proto, <u16>lo));
    lo += <u32>1 << k;
  }
}

/** The port prefixes of a rule's numeric ports, and of its named ports as resolved (ingress). */
function portPrefixes(rule: Rule, resolved: NamedPort[]): PortPrefix[] {
  const out: PortPrefix[] = [];
  if (rule.ports.length == 0) {
    out.push(new PortPrefix(<u8>SL_POL_PREFIX_ANY_PROTO, 0, 0));
    return out;
  }
  for (let i = 0; i < rule.ports.length; i++) {
    const p = unchecked(rule.ports[i]);
    if (p.name.length > 0) {
      for (let j = 0; j < resolved.length; j++) {
        const r = unchecked(resolved[j]);
        if (r.name == p.name && r.proto == p.proto) out.push(new PortPrefix(<u8>SL_POL_PREFIX_PORT, p.proto, r.port));
      }
    } else if (p.port == 0) {
      out.push(new PortPrefix(<u8>SL_POL_PREFIX_PROTO, p.proto, 0));
    } else if (p.endPort > p.port) {
      rangePrefixes(<u32>p.port, <u32>p.endPort, p.proto, out);
    } else {
      out.push(new PortPrefix(<u8>SL_POL_PREFIX_PORT, p.proto, p.port));
    }
  }
  return out;
}

function inBlock(ip: u32, p: Peer): bool {
  if (!p.block!.contains(ip)) return false;
  for (let i = 0; i < p.except.length; i++) if (unchecked(p.except[i]).contains(ip)) return false;
  return true;
}

/** Whether an identity is among the pods a selector-peer names. */
export function peerHasIdentity(p: Peer, policyNs: string, i: Identity, w: World): bool {
  const nsOk = p.namespaces == null ? i.ns == policyNs : p.namespaces!.matches(w.nsLabels(i.ns));
  return nsOk && (p.pods == null || p.pods!.matches(i.labels));
}

function addCidr(b: Body, c: Cidr4): void {
  const key = ((<u64>c.addr) << 8) | <u64>c.len;
  if (b.cidrs.length > 0 && b.cidrSeen.has(key)) return;
  b.cidrSeen.add(key);
  b.cidrs.push(c);
}

/** The first index of the sorted cidrs whose address is at or above addr. */
function firstFrom(cidrs: Cidr4[], addr: u32): i32 {
  let lo = 0, hi = cidrs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (unchecked(cidrs[mid]).addr < addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The pods an egress named port reaches through a block: one /32 each. */
function blockPods(b: Body, p: Peer, spec: PortSpec, rule: Rule, w: World): void {
  const pods = w.pods();
  for (let i = 0; i < pods.length; i++) {
    const pod = unchecked(pods[i]);
    const port = pod.resolve(spec.name, spec.proto);
    if (port < 0) continue;
    for (let j = 0; j < pod.ips.length; j++) {
      const ip = unchecked(pod.ips[j]);
      if (inBlock(ip, p)) b.push(<u8>SL_POL_PREFIX_PORT, ip, <u8>SL_PEER_CIDR + 32, spec.proto, <u16>port, rule);
    }
  }
}

/** A rule's selector peers expanded: (kind, peer) pairs, and for egress
 * named ports the (identity, proto, port) each reaches. Computed once per
 * policy and kept until a change it depends on (engine.ts). */
export class RuleExp {
  kinds: u8[] = [];
  peers: u32[] = [];
  namedId: u32[] = [];
  namedProto: u8[] = [];
  namedPort: u16[] = [];
  uses: u8 = 0;
}

/** The identities a selector peer can name, by its namespace part: its own
 * namespace's, those of the namespaces it selects, or all (no peer, or {}). */
function candidates(p: Peer | null, policyNs: string, w: World): Identity[] {
  if (p == null || (p.namespaces != null && p.namespaces!.empty)) return w.identities();
  if (p.namespaces == null) return w.identitiesIn(policyNs);
  const out: Identity[] = [];
  const all = w.namespaces();
  for (let i = 0; i < all.length; i++) {
    if (!p.namespaces!.matches(w.nsLabels(unchecked(all[i])))) continue;
    const ids = w.identitiesIn(unchecked(all[i]));
    for (let j = 0; j < ids.length; j++) out.push(unchecked(ids[j]));
  }
  return out;
}

function expandNamed(e: RuleExp, p: Peer | null, policyNs: string, spec: PortSpec, w: World): void {
  e.uses |= USES_IDENTITIES | USES_NAMESPACES;
  const ids = candidates(p, policyNs, w);
  for (let i = 0; i < ids.length; i++) {
    const id = unchecked(ids[i]);
    if (p != null && !peerHasIdentity(p, policyNs, id, w)) continue;
    const port = id.resolve(spec.name, spec.proto);
    if (port < 0) continue;
    e.namedId.push(w.identityId(id));
    e.namedProto.push(spec.proto);
    e.namedPort.push(<u16>port);
  }
}

function expandPeer(e: RuleExp, p: Peer, policyNs: string, w: World): void {
  const pods = p.pods, nss = p.namespaces;
  if (nss == null && pods != null && pods.empty) {
    e.uses |= USES_NAMESPACES;
    e.kinds.push(<u8>SL_PEER_NS);
    e.peers.push(w.nsId(policyNs));
    return;
  }
  if (nss != null && (pods == null || pods.empty)) {
    if (nss.empty) {
      e.kinds.push(<u8>SL_PEER_ALL_PODS);
      e.peers.push(0);
      return;
    }
    e.uses |= USES_NAMESPACES;
    const all = w.namespaces();
    for (let i = 0; i < all.length; i++) {
      const ns = unchecked(all[i]);
      if (!nss.matches(w.nsLabels(ns))) continue;
      e.kinds.push(<u8>SL_PEER_NS);
      e.peers.push(w.nsId(ns));
    }
    return;
  }
  e.uses |= USES_IDENTITIES | USES_NAMESPACES;
  const ids = candidates(p, policyNs, w);
  for (let i = 0; i < ids.length; i++) {
    const id = unchecked(ids[i]);
    if (!peerHasIdentity(p, policyNs, id, w)) continue;
    e.kinds.push(<u8>SL_PEER_ID);
    e.peers.push(w.identityId(id));
  }
}

export function expandRule(rule: Rule, policyNs: string, egress: bool, w: World): RuleExp {
  const e = new RuleExp();
  if (rule.peers.length == 0) {
    e.kinds.push(<u8>SL_PEER_ANY);
    e.peers.push(0);
  }
  for (let i = 0; i < rule.peers.length; i++) {
    const p = unchecked(rule.peers[i]);
    if (p.block == null) expandPeer(e, p, policyNs, w);
  }
  for (let j = 0; j < rule.ports.length && egress; j++) {
    const spec = unchecked(rule.ports[j]);
    if (spec.name.length == 0) continue;
    if (rule.peers.length == 0) expandNamed(e, null, policyNs, spec, w);
    for (let i = 0; i < rule.peers.length; i++) {
      const p = unchecked(rule.peers[i]);
      if (p.block == null) expandNamed(e, p, policyNs, spec, w);
      else e.uses |= USES_PODS;
    }
  }
  return e;
}

/** The entries of a block peer: one per trie prefix inside it and inside none
 * of its excepts. The trie is sorted by address, so the prefixes inside the
 * block are the run of addresses it spans. */
function blockEntries(b: Body, p: Peer, ports: PortPrefix[], rule: Rule): void {
  const block = p.block!;
  // shifts are mod 32: a /0 and a /32 are spelled out
  const last = block.len == 0 ? <u32>0xffffffff : block.len >= 32 ? block.addr : block.addr | ((<u32>0xffffffff) >>> block.len);
  for (let i = firstFrom(b.cidrs, block.addr); i < b.cidrs.length && unchecked(b.cidrs[i]).addr <= last; i++) {
    const c = unchecked(b.cidrs[i]);
    if (!c.within(block)) continue;
    let excepted = false;
    for (let j = 0; j < p.except.length && !excepted; j++) excepted = c.within(unchecked(p.except[j]));
    if (excepted) continue;
    for (let k = 0; k < ports.length; k++) {
      const pp = unchecked(ports[k]);
      b.push(pp.plen, c.addr, <u8>SL_PEER_CIDR + c.len, pp.proto, pp.port, rule);
    }
  }
}

function compileRule(b: Body, rule: Rule, e: RuleExp, egress: bool, resolved: NamedPort[], w: World): void {
  const ports = portPrefixes(rule, egress ? [] : resolved);
  b.uses |= e.uses;
  for (let i = 0; i < e.kinds.length; i++) {
    for (let k = 0; k < ports.length; k++) {
      const pp = unchecked(ports[k]);
      b.push(pp.plen, unchecked(e.peers[i]), unchecked(e.kinds[i]), pp.proto, pp.port, rule);
    }
  }
  for (let i = 0; i < rule.peers.length; i++) {
    const p = unchecked(rule.peers[i]);
    if (p.block != null) blockEntries(b, p, ports, rule);
  }
  for (let i = 0; i < e.namedId.length; i++) {
    b.push(<u8>SL_POL_PREFIX_PORT, unchecked(e.namedId[i]), <u8>SL_PEER_ID, unchecked(e.namedProto[i]), unchecked(e.namedPort[i]), rule);
  }
  for (let j = 0; j < rule.ports.length && egress; j++) {
    const spec = unchecked(rule.ports[j]);
    if (spec.name.length == 0) continue;
    for (let i = 0; i < rule.peers.length; i++) {
      const p = unchecked(rule.peers[i]);
      if (p.block != null) blockPods(b, p, spec, rule, w);
    }
  }
}

/** The cached expansions of a policy's rules for one direction. */
export interface Expansions {
  of(p: Policy, dir: i32): RuleExp[];
}

function compareCidrs(a: Cidr4, b: Cidr4): i32 {
  if (a.addr != b.addr) return i32(a.addr > b.addr) - i32(a.addr < b.addr);
  return i32(a.len > b.len) - i32(a.len < b.len);
}

/** Collects the trie first (every block and except of the group, and the
 * /32s of egress named ports through blocks), then the entries. */
export function compileBody(policies: Policy[], dir: i32, resolved: NamedPort[], w: World, x: Expansions): Body {
  const b = new Body();
  for (let i = 0; i < policies.length; i++) {
    const rules = unchecked(policies[i]).rules[dir];
    for (let j = 0; j < rules.length; j++) {
      const peers = unchecked(rules[j]).peers;
      for (let k = 0; k < peers.length; k++) {
        const p = unchecked(peers[k]);
        if (p.block == null) continue;
        addCidr(b, p.block!);
        for (let e = 0; e < p.except.length; e++) addCidr(b, unchecked(p.except[e]));
      }
    }
  }
  // Named-port /32s join the trie while the rules compile; blocks must see them, so the pods' go first.
  for (let i = 0; i < policies.length && dir == 1; i++) {
    const rules = unchecked(policies[i]).rules[dir];
    for (let j = 0; j < rules.length; j++) {
      const rule = unchecked(rules[j]);
      for (let s = 0; s < rule.ports.length; s++) {
        const spec = unchecked(rule.ports[s]);
        if (spec.name.length == 0) continue;
        for (let k = 0; k < rule.peers.length; k++) {
          const p = unchecked(rule.peers[k]);
          if (p.block != null) preAddPods(b, p, spec, w);
        }
      }
    }
  }
  b.cidrs.sort(compareCidrs);
  for (let i = 0; i < policies.length; i++) {
    const pol = unchecked(policies[i]);
    const rules = pol.rules[dir];
    const exps = x.of(pol, dir);
    for (let j = 0; j < rules.length; j++) compileRule(b, unchecked(rules[j]), unchecked(exps[j]), dir == 1, resolved, w);
  }
  b.cidrs.sort(compareCidrs);
  return b;
}

function preAddPods(b: Body, p: Peer, spec: PortSpec, w: World): void {
  const pods = w.pods();
  for (let i = 0; i < pods.length; i++) {
    const pod = unchecked(pods[i]);
    if (pod.resolve(spec.name, spec.proto) < 0) continue;
    for (let j = 0; j < pod.ips.length; j++) if (inBlock(unchecked(pod.ips[j]), p)) addCidr(b, new Cidr4(unchecked(pod.ips[j]), 32));
  }
}

/** Every label key the policies' pod selectors read (K), and every port name their egress rules name (N). */
export function selectorKeys(p: Policy, keys: string[], names: string[]): void {
  for (let dir = 0; dir < 2; dir++) {
    const rules = p.rules[dir];
    for (let j = 0; j < rules.length; j++) {
      const rule = unchecked(rules[j]);
      for (let k = 0; k < rule.peers.length; k++) {
        const pods = unchecked(rule.peers[k]).pods;
        if (pods != null) pods.keys(keys);
      }
      if (dir == 0) continue;
      for (let k = 0; k < rule.ports.length; k++) {
        const n = unchecked(rule.ports[k]).name;
        if (n.length > 0) names.push(n);
      }
    }
  }
}
