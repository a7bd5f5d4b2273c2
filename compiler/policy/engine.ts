// The incremental NetworkPolicy compiler (doc/policy.md). It keeps label
// identities, namespaces, each policy's expanded rules and each local policy
// group's image; a batch finds what its changes reach (pods re-identified,
// groups whose policies or expansions moved, addresses whose entry moved),
// recomputes those whole, and diffs them against what the maps hold.
import { PODF_HOST_NETWORK } from '../abi/records';
import { SL_GROUP_UNNUMBERED, SL_IPID_LOCAL, SL_IPID_NODE_SELF, SL_IPID_POD, SL_PEER_CIDR, SL_POLSTATE_ANY_POLICY } from '../abi/layouts';
import { MapSet } from '../diff';
import { NameIds } from '../ids';
import { Problem } from '../problems';
import { Body, compileBody, expandRule, Expansions, Identity, RuleExp, selectorKeys, USES_IDENTITIES, USES_NAMESPACES, USES_PODS, World } from './body';
import { Emitter, GroupImage, IpidVal } from './emit';
import { Labels, NamedPort, NO_LABELS, Peer, Pod, Policy, PortSpec } from './model';
import { Changes, PolicyObjects } from './objects';

const SEP = '\u0001';

export class Group {
  members: i32 = 0;
  image: GroupImage | null = null; // what the maps hold for it
  id: u32 = 0; // the id image was emitted with
  kinds: u8 = 0;
  uses: u8 = 0;
  constructor(public key: string, public dir: i32, public policies: string[], public resolved: NamedPort[]) {}
}

function countKey(m: Map<string, i32>, k: string, d: i32, flipped: Set<string>): void {
  const n = (m.has(k) ? m.get(k) : 0) + d;
  if (n == 0) m.delete(k);
  else m.set(k, n);
  if (n == 0 || n == d) flipped.add(k);
}

function ipCompare(a: u32, b: u32): i32 { return i32(a > b) - i32(a < b); }

export class PolicyEngine implements World, Expansions {
  objects: PolicyObjects = new PolicyObjects();
  node: string = '';
  nodeAddrs: u32[] = []; // host order, what sl_ipid holds as NODE_SELF
  active: bool = false;
  emit: Emitter = new Emitter();
  /** Moves on whenever problems() may change. */
  problemsVersion: u32 = 0;

  private labelKeys: Map<string, i32> = new Map(); // K, counted over policies
  private portNames: Map<string, i32> = new Map(); // N
  identitiesByKey: Map<string, Identity> = new Map();
  private identityIds: NameIds = new NameIds();
  podIdentity: Map<string, string> = new Map();
  private podIps: Map<string, u32[]> = new Map(); // what each pod registered in ipOwners
  private podNs: Map<string, string> = new Map();
  ipOwners: Map<u32, string[]> = new Map();
  private nsCount: Map<string, i32> = new Map(); // pods + (1 if a Namespace object)
  private nsIds: NameIds = new NameIds();
  private nsKnown: Set<string> = new Set();
  private localPods: Set<string> = new Set();
  private policiesByNs: Map<string, Policy[]> = new Map();
  private exps: Map<string, StaticArray<RuleExp[]>> = new Map();
  groups: Map<string, Group> = new Map();
  private groupIds: NameIds = new NameIds();
  podGroups: Map<string, StaticArray<string>> = new Map(); // local pods: group key by direction
  private ruleIds: NameIds = new NameIds();
  private names: Map<string, u32> = new Map(); // sl_polname as held
  ipid: Map<u32, IpidVal> = new Map(); // sl_ipid as held
  private sortedIds: Identity[] | null = null;
  private idsByNs: Map<string, Identity[]> = new Map(); // sorted by key
  private sortedNs: string[] | null = null;
  private sortedPods: Pod[] | null = null;

  // World
  /** Every identity, by namespace then key: the per-namespace lists joined, no sort of them all. */
  identities(): Identity[] {
    if (this.sortedIds == null) {
      const out: Identity[] = [];
      const nss = this.namespaces();
      for (let i = 0; i < nss.length; i++) {
        const ids = this.identitiesIn(nss[i]);
        for (let j = 0; j < ids.length; j++) out.push(ids[j]);
      }
      this.sortedIds = out;
    }
    return this.sortedIds!;
  }
  identitiesIn(ns: string): Identity[] { return this.idsByNs.has(ns) ? this.idsByNs.get(ns) : NO_IDENTITIES; }
  namespaces(): string[] {
    if (this.sortedNs == null) {
      const keys = this.nsCount.keys();
      keys.sort();
      this.sortedNs = keys;
    }
    return this.sortedNs!;
  }
  nsLabels(ns: string): Labels { return this.objects.labelsOf(ns); }
  identityId(i: Identity): u32 { return this.identityIds.get(i.key); }
  nsId(ns: string): u32 { return this.nsIds.get(ns); }
  pods(): Pod[] {
    if (this.sortedPods == null) {
      const keys = this.objects.pods.keys();
      keys.sort();
      const out: Pod[] = [];
      for (let i = 0; i < keys.length; i++) {
        const p = this.objects.pods.get(keys[i]);
        if (p.networked) out.push(p);
      }
      this.sortedPods = out;
    }
    return this.sortedPods!;
  }
  // Expansions
  of(p: Policy, dir: i32): RuleExp[] {
    if (!this.exps.has(p.key)) {
      const e = new StaticArray<RuleExp[]>(2);
      for (let d = 0; d < 2; d++) {
        const rules = p.rules[d];
        const out: RuleExp[] = [];
        for (let i = 0; i < rules.length; i++) out.push(expandRule(unchecked(rules[i]), p.ns, d == 1, this));
        e[d] = out;
      }
      this.exps.set(p.key, e);
    }
    return this.exps.get(p.key)[dir];
  }

  /** One batch: objects already applied (this.objects); nodeAddrs as the Node now says. */
  batch(nodeAddrs: u32[], before: MapSet, after: MapSet): void {
    const ch = this.objects.take();
    const wasActive = this.active;
    this.active = this.objects.policies.size > 0;
    const b = new Batch();
    b.toggled = wasActive != this.active;
    this.updateNode(nodeAddrs, b);
    if (ch.empty && !b.toggled && b.ips.size == 0) return;
    const oldEpoch = this.emit.epoch;
    this.countKeys(ch, b);
    this.reidentify(ch, b);
    this.renumberIdentities(b);
    this.updateNamespaces(ch, b);
    this.updateRules(ch, b);
    this.invalidateExpansions(ch, b);
    this.regroup(ch, b);
    this.emitGroups(b, before, after);
    this.emitIpids(b, before, after);
    this.emitNames(b, before, after);
    if (wasActive) this.emit.state(before, oldEpoch, SL_POLSTATE_ANY_POLICY);
    if (this.active) this.emit.state(after, this.emit.epoch, SL_POLSTATE_ANY_POLICY);
  }

  /** Every entry the policy maps hold now. */
  rebuild(after: MapSet): void {
    const e = new Emitter();
    const groups = this.groups.values();
    for (let i = 0; i < groups.length; i++) if (groups[i].image) e.group(after, groups[i].image!);
    const ips = this.ipid.keys();
    for (let i = 0; i < ips.length; i++) e.ipid(after, ips[i], this.ipid.get(ips[i]));
    const names = this.names.keys();
    for (let i = 0; i < names.length; i++) e.name(after, this.names.get(names[i]), names[i]);
    if (this.active) e.state(after, e.epoch, SL_POLSTATE_ANY_POLICY);
  }

  problems(out: Problem[]): void {
    const gs = this.groups.values();
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i];
      if (g.id != 0) continue;
      out.push(new Problem('NetworkPolicy ' + g.policies[0], 'spec.podSelector',
        'the policy group of ' + g.policies.join(', ') + ' got no id (its id bucket is full): its pods are isolated and allowed nothing'));
    }
  }

  private updateNode(addrs: u32[], b: Batch): void {
    const now: u32[] = [];
    for (let i = 0; i < addrs.length; i++) now.push(bswap<u32>(addrs[i]));
    for (let i = 0; i < this.nodeAddrs.length; i++) if (!now.includes(this.nodeAddrs[i])) b.ips.add(this.nodeAddrs[i]);
    for (let i = 0; i < now.length; i++) if (!this.nodeAddrs.includes(now[i])) b.ips.add(now[i]);
    this.nodeAddrs = now;
  }

  /** K and N: label keys and port names whose count crosses zero re-identify the pods carrying them. */
  private countKeys(ch: Changes, b: Batch): void {
    const keys = ch.policies.keys();
    const flippedKeys = new Set<string>(), flippedNames = new Set<string>();
    for (let i = 0; i < keys.length; i++) {
      const old = ch.policies.get(keys[i]);
      if (old != null) this.count(old, -1, flippedKeys, flippedNames);
      if (this.objects.policies.has(keys[i])) this.count(this.objects.policies.get(keys[i]), 1, flippedKeys, flippedNames);
    }
    const pk = ch.pods.keys();
    for (let i = 0; i < pk.length; i++) b.pods.add(pk[i]);
    if (flippedKeys.size + flippedNames.size == 0) return;
    const fk = flippedKeys.values(), fn = flippedNames.values();
    const pods = this.objects.pods.values();
    for (let i = 0; i < pods.length; i++) {
      const p = pods[i];
      let hit = false;
      for (let j = 0; j < fk.length && !hit; j++) hit = p.labels.has(fk[j]);
      for (let j = 0; j < p.ports.length && !hit; j++) hit = fn.includes(p.ports[j].name);
      if (hit) b.pods.add(p.key);
    }
  }

  private count(p: Policy, d: i32, fk: Set<string>, fn: Set<string>): void {
    const keys: string[] = [], names: string[] = [];
    selectorKeys(p, keys, names);
    for (let i = 0; i < keys.length; i++) countKey(this.labelKeys, keys[i], d, fk);
    for (let i = 0; i < names.length; i++) countKey(this.portNames, names[i], d, fn);
  }

  private identityKey(p: Pod): string {
    let key = p.ns + SEP;
    for (let i = 0; i < p.labels.keys.length; i++) {
      const k = unchecked(p.labels.keys[i]);
      if (this.labelKeys.has(k)) key += k + '=' + unchecked(p.labels.values[i]) + SEP;
    }
    key += SEP;
    const named: string[] = [];
    for (let i = 0; i < p.ports.length; i++) {
      const np = unchecked(p.ports[i]);
      if (this.portNames.has(np.name)) named.push(np.name + '/' + np.proto.toString() + '=' + np.port.toString());
    }
    named.sort();
    return key + named.join(SEP);
  }

  private newIdentity(p: Pod, key: string): Identity {
    const l = new Labels();
    for (let i = 0; i < p.labels.keys.length; i++) {
      if (!this.labelKeys.has(p.labels.keys[i])) continue;
      l.keys.push(p.labels.keys[i]);
      l.values.push(p.labels.values[i]);
    }
    const ports: NamedPort[] = [];
    for (let i = 0; i < p.ports.length; i++) if (this.portNames.has(p.ports[i].name)) ports.push(p.ports[i]);
    return new Identity(key, p.ns, l, ports);
  }

  /** Dirty pods get their identity, addresses and namespace count anew. */
  private reidentify(ch: Changes, b: Batch): void {
    const keys = b.pods.values();
    keys.sort();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (this.podIdentity.has(key)) {
        const old = this.identitiesByKey.get(this.podIdentity.get(key));
        if (--old.members == 0) {
          this.identitiesByKey.delete(old.key);
          const list = this.idsByNs.get(old.ns);
          list.splice(list.indexOf(old), 1);
          if (list.length == 0) this.idsByNs.delete(old.ns);
          b.idBuckets.add(this.identityIds.remove(old.key));
          b.identities.push(old);
        }
        this.podIdentity.delete(key);
      }
      if (this.podIps.has(key)) {
        const ips = this.podIps.get(key);
        for (let j = 0; j < ips.length; j++) this.unown(ips[j], key, b);
        this.podIps.delete(key);
      }
      if (this.podNs.has(key)) {
        countKey(this.nsCount, this.podNs.get(key), -1, b.namespaces);
        this.podNs.delete(key);
      }
      if (this.localPods.has(key)) this.localPods.delete(key);
      if (!this.objects.pods.has(key)) continue;
      const p = this.objects.pods.get(key);
      if (p.node == this.node && this.node.length > 0) this.localPods.add(key);
      countKey(this.nsCount, p.ns, 1, b.namespaces);
      this.podNs.set(key, p.ns);
      if (!p.networked) continue;
      const ik = this.identityKey(p);
      if (!this.identitiesByKey.has(ik)) {
        const id = this.newIdentity(p, ik);
        this.identitiesByKey.set(ik, id);
        if (!this.idsByNs.has(id.ns)) this.idsByNs.set(id.ns, [id]);
        else insertSorted(this.idsByNs.get(id.ns), id);
        b.idBuckets.add(this.identityIds.add(ik));
        b.identities.push(id);
      }
      this.identitiesByKey.get(ik).members++;
      this.podIdentity.set(key, ik);
      this.podIps.set(key, p.ips);
      for (let j = 0; j < p.ips.length; j++) this.own(p.ips[j], key, b);
    }
    if (b.pods.size > 0) this.sortedPods = null;
    if (b.identities.length > 0) this.sortedIds = null;
  }

  private own(ip: u32, pod: string, b: Batch): void {
    b.ips.add(ip);
    if (!this.ipOwners.has(ip)) { this.ipOwners.set(ip, [pod]); return; }
    const o = this.ipOwners.get(ip);
    o.push(pod);
    o.sort();
  }

  private unown(ip: u32, pod: string, b: Batch): void {
    b.ips.add(ip);
    const o = this.ipOwners.get(ip);
    o.splice(o.indexOf(pod), 1);
    if (o.length == 0) this.ipOwners.delete(ip);
  }

  /** Ids of identities that existed before and moved: their entries and their pods' entries change. */
  private renumberIdentities(b: Batch): void {
    const buckets = b.idBuckets.values();
    for (let i = 0; i < buckets.length; i++) renumber(this.identityIds, buckets[i], b.renumbered);
    const created = new Set<string>();
    for (let i = 0; i < b.identities.length; i++) created.add(b.identities[i].key);
    const moved = new Set<string>();
    const names = b.renumbered.values();
    for (let i = 0; i < names.length; i++) {
      if (created.has(names[i]) || !this.identitiesByKey.has(names[i])) continue;
      moved.add(names[i]);
      b.identities.push(this.identitiesByKey.get(names[i]));
    }
    if (moved.size == 0) return;
    const pods = this.podIdentity.keys();
    for (let i = 0; i < pods.length; i++) {
      if (!moved.has(this.podIdentity.get(pods[i]))) continue;
      const ips = this.podIps.get(pods[i]);
      for (let j = 0; j < ips.length; j++) b.ips.add(ips[j]);
    }
  }

  /** Namespace objects and counts; ids renumbered; pods of a renumbered namespace re-emitted. */
  private updateNamespaces(ch: Changes, b: Batch): void {
    const names = ch.namespaces.keys();
    for (let i = 0; i < names.length; i++) {
      const had = ch.namespaces.get(names[i]) != null, has = this.objects.nsLabels.has(names[i]);
      if (had != has) countKey(this.nsCount, names[i], has ? 1 : -1, b.namespaces);
      b.relabelled.set(names[i], had ? ch.namespaces.get(names[i])! : NO_LABELS);
    }
    const flipped = b.namespaces.values();
    const buckets = new Set<u32>();
    for (let i = 0; i < flipped.length; i++) {
      const ns = flipped[i];
      if (this.nsCount.has(ns) && !this.nsKnown.has(ns)) { buckets.add(this.nsIds.add(ns)); this.nsKnown.add(ns); }
      else if (!this.nsCount.has(ns) && this.nsKnown.has(ns)) { buckets.add(this.nsIds.remove(ns)); this.nsKnown.delete(ns); }
    }
    const bs = buckets.values();
    for (let i = 0; i < bs.length; i++) renumber(this.nsIds, bs[i], b.namespaces);
    if (flipped.length > 0) this.sortedNs = null;
    // A namespace whose id moved changes the entry of each of its pods.
    const moved = b.namespaces.values();
    if (moved.length == 0) return;
    const pods = this.podNs.keys();
    for (let i = 0; i < pods.length; i++) {
      if (!moved.includes(this.podNs.get(pods[i])) || !this.podIps.has(pods[i])) continue;
      const ips = this.podIps.get(pods[i]);
      for (let j = 0; j < ips.length; j++) b.ips.add(ips[j]);
    }
  }

  /** Rule ids (for sl_polname and sl_pol values); a renumbered rule dirties its policy. */
  private updateRules(ch: Changes, b: Batch): void {
    const keys = ch.policies.keys();
    const buckets = new Set<u32>();
    for (let i = 0; i < keys.length; i++) {
      const old = ch.policies.get(keys[i]);
      if (old != null) this.eachRule(old, b, buckets, false);
      if (this.objects.policies.has(keys[i])) this.eachRule(this.objects.policies.get(keys[i]), b, buckets, true);
      b.policies.add(keys[i]);
    }
    const bs = buckets.values();
    for (let i = 0; i < bs.length; i++) {
      const names = this.ruleIds.names(bs[i]);
      for (let j = 0; j < names.length; j++) {
        b.rules.add(names[j]);
        b.policies.add(names[j].substring(0, names[j].lastIndexOf(' ')));
      }
      this.ruleIds.renumber(bs[i]);
    }
  }

  private eachRule(p: Policy, b: Batch, buckets: Set<u32>, add: bool): void {
    for (let d = 0; d < 2; d++) {
      const rules = p.rules[d];
      for (let i = 0; i < rules.length; i++) {
        const n = unchecked(rules[i]).name;
        b.rules.add(n);
        buckets.add(add ? this.ruleIds.add(n) : this.ruleIds.remove(n));
      }
    }
  }

  /** Drops the expansions a change reaches: the policy itself, or an identity
   * or namespace one of its peers names. */
  private invalidateExpansions(ch: Changes, b: Batch): void {
    const keys = this.exps.keys();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (b.policies.has(key) || !this.objects.policies.has(key)) {
        this.exps.delete(key);
        b.policies.add(key);
        continue;
      }
      if (this.reaches(this.objects.policies.get(key), b)) {
        this.exps.delete(key);
        b.policies.add(key);
      }
    }
  }

  private reaches(p: Policy, b: Batch): bool {
    for (let d = 0; d < 2; d++) {
      const rules = p.rules[d];
      for (let r = 0; r < rules.length; r++) {
        const rule = unchecked(rules[r]);
        const named = d == 1 && hasNamed(rule.ports);
        for (let k = 0; k < rule.peers.length; k++) {
          const peer = unchecked(rule.peers[k]);
          if (peer.block != null) continue;
          if (this.peerReachedByNs(peer, p, b)) return true;
          if ((peer.pods != null && !peer.pods!.empty) || named) {
            for (let i = 0; i < b.identities.length; i++) if (peerNames(peer, p.ns, unchecked(b.identities[i]), this)) return true;
          }
        }
        if (named && rule.peers.length == 0 && b.identities.length > 0) return true;
      }
    }
    return false;
  }

  /** A namespace whose labels, existence or id changed, and which the peer's namespace part names before or after. */
  private peerReachedByNs(peer: Peer, p: Policy, b: Batch): bool {
    const moved = b.namespaces.values();
    for (let i = 0; i < moved.length; i++) {
      const ns = moved[i];
      if (peer.namespaces == null ? ns == p.ns : peer.namespaces!.matches(this.nsLabels(ns)) || peer.namespaces!.matches(b.oldLabels(ns, this))) return true;
    }
    const relabelled = b.relabelled.keys();
    for (let i = 0; i < relabelled.length; i++) {
      if (peer.namespaces == null) continue;
      const ns = relabelled[i];
      if (peer.namespaces!.matches(this.nsLabels(ns)) != peer.namespaces!.matches(b.relabelled.get(ns))) return true;
    }
    return false;
  }

  /** Local pods whose groups may have moved get their group keys anew. */
  private regroup(ch: Changes, b: Batch): void {
    const touchedNs = new Set<string>();
    const pk = ch.policies.keys();
    for (let i = 0; i < pk.length; i++) {
      const old = ch.policies.get(pk[i]);
      if (old != null) touchedNs.add(old.ns);
      if (this.objects.policies.has(pk[i])) touchedNs.add(this.objects.policies.get(pk[i]).ns);
    }
    const nss = touchedNs.values();
    for (let i = 0; i < nss.length; i++) this.indexPolicies(nss[i]);
    const candidates = new Set<string>();
    const dirty = b.pods.values();
    for (let i = 0; i < dirty.length; i++) candidates.add(dirty[i]);
    if (touchedNs.size > 0 || b.toggled) {
      const locals = this.localPods.values();
      for (let i = 0; i < locals.length; i++) {
        if (b.toggled || touchedNs.has(this.objects.pods.get(locals[i]).ns)) candidates.add(locals[i]);
      }
    }
    const keys = candidates.values();
    keys.sort();
    for (let i = 0; i < keys.length; i++) this.regroupPod(keys[i], b);
    // Groups whose policies' content or expansions changed.
    const gs = this.groups.values();
    for (let i = 0; i < gs.length; i++) {
      const g = gs[i];
      if (b.toggled || (g.uses & USES_PODS) != 0 && b.pods.size > 0) { b.groups.add(g.key); continue; }
      for (let j = 0; j < g.policies.length; j++) if (b.policies.has(g.policies[j])) { b.groups.add(g.key); break; }
    }
  }

  private regroupPod(key: string, b: Batch): void {
    const p = this.objects.pods.has(key) ? this.objects.pods.get(key) : null;
    const local = p != null && p.node == this.node && this.node.length > 0 && p.networked && this.active;
    const now = new StaticArray<string>(2);
    for (let d = 0; d < 2; d++) now[d] = local ? this.groupKey(p!, d) : '';
    const was = this.podGroups.has(key) ? this.podGroups.get(key) : null;
    for (let d = 0; d < 2; d++) {
      const old = was == null ? '' : was[d];
      if (old == now[d]) continue;
      if (old.length > 0) this.release(old, b);
      if (now[d].length > 0) this.acquire(now[d], p!, d, b);
    }
    if (now[0].length + now[1].length > 0) this.podGroups.set(key, now);
    else if (was != null) this.podGroups.delete(key);
    if (p != null) for (let j = 0; j < p.ips.length; j++) b.ips.add(p.ips[j]);
  }

  /** Direction · the policies selecting the pod for it · how their ingress port names resolve on it. */
  private groupKey(p: Pod, dir: i32): string {
    const pols = this.selecting(p, dir);
    if (pols.length == 0) return '';
    let key = dir.toString() + SEP + pols.join(SEP) + SEP + SEP;
    if (dir == 0) {
      const res = this.resolution(p, pols);
      for (let i = 0; i < res.length; i++) key += res[i].name + '/' + res[i].proto.toString() + '=' + res[i].port.toString() + SEP;
    }
    return key;
  }

  /** The policies selecting pod p for a direction, by key. */
  private selecting(p: Pod, dir: i32): string[] {
    const out: string[] = [];
    if (!this.policiesByNs.has(p.ns)) return out;
    const all = this.policiesByNs.get(p.ns);
    for (let i = 0; i < all.length; i++) {
      const pol = all[i];
      if (pol.hasType(dir) && pol.selector.matches(p.labels)) out.push(pol.key);
    }
    return out;
  }

  private indexPolicies(ns: string): void {
    const out: Policy[] = [];
    const all = this.objects.policies.values();
    for (let i = 0; i < all.length; i++) if (all[i].ns == ns) out.push(all[i]);
    out.sort((a: Policy, b: Policy): i32 => (a.key < b.key ? -1 : i32(a.key > b.key)));
    if (out.length > 0) this.policiesByNs.set(ns, out);
    else if (this.policiesByNs.has(ns)) this.policiesByNs.delete(ns);
  }

  private resolution(p: Pod, pols: string[]): NamedPort[] {
    const out: NamedPort[] = [];
    for (let i = 0; i < pols.length; i++) {
      const rules = this.objects.policies.get(pols[i]).rules[0];
      for (let j = 0; j < rules.length; j++) {
        const ports = unchecked(rules[j]).ports;
        for (let k = 0; k < ports.length; k++) {
          const spec = unchecked(ports[k]);
          if (spec.name.length == 0) continue;
          const port = p.resolve(spec.name, spec.proto);
          let seen = false;
          for (let m = 0; m < out.length && !seen; m++) seen = out[m].name == spec.name && out[m].proto == spec.proto;
          if (port >= 0 && !seen) out.push(new NamedPort(spec.name, spec.proto, <u16>port));
        }
      }
    }
    out.sort((a: NamedPort, b: NamedPort): i32 => (a.name < b.name ? -1 : a.name > b.name ? 1 : i32(a.proto) - i32(b.proto)));
    return out;
  }

  private acquire(key: string, p: Pod, dir: i32, b: Batch): void {
    if (!this.groups.has(key)) {
      const pols = this.selecting(p, dir);
      this.groups.set(key, new Group(key, dir, pols, dir == 0 ? this.resolution(p, pols) : []));
      b.groupBuckets.add(this.groupIds.add(key));
      b.groups.add(key);
    }
    this.groups.get(key).members++;
  }

  private release(key: string, b: Batch): void {
    const g = this.groups.get(key);
    if (--g.members > 0) return;
    b.groupBuckets.add(this.groupIds.remove(key));
    b.groups.add(key);
    b.gone.set(key, g);
    this.groups.delete(key);
  }

  private emitGroups(b: Batch, before: MapSet, after: MapSet): void {
    const buckets = b.groupBuckets.values();
    for (let i = 0; i < buckets.length; i++) {
      const names = this.groupIds.names(buckets[i]);
      for (let j = 0; j < names.length; j++) b.groups.add(names[j]);
      this.groupIds.renumber(buckets[i]);
    }
    const keys = b.groups.values();
    keys.sort();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const old = this.groups.has(key) ? this.groups.get(key) : b.gone.has(key) ? b.gone.get(key) : null;
      if (old != null && old.image != null) this.emit.group(before, old.image!);
      if (!this.groups.has(key)) continue;
      const g = this.groups.get(key);
      const id = this.groupIds.get(key);
      const kinds = g.kinds;
      const oldId = g.id;
      g.image = null;
      g.id = id;
      if (id != 0) {
        const pols: Policy[] = [];
        for (let j = 0; j < g.policies.length; j++) pols.push(this.objects.policies.get(g.policies[j]));
        const body = compileBody(pols, g.dir, g.resolved, this, this);
        g.kinds = body.kinds;
        g.uses = body.uses;
        g.image = this.image(body, id);
        this.emit.group(after, g.image!);
      } else {
        this.problemsVersion++;
        g.kinds = 0;
      }
      if (oldId != id || kinds != g.kinds) this.addIpsOfGroup(key, b);
    }
  }

  private addIpsOfGroup(key: string, b: Batch): void {
    const pods = this.podGroups.keys();
    for (let i = 0; i < pods.length; i++) {
      const gk = this.podGroups.get(pods[i]);
      if (gk[0] != key && gk[1] != key) continue;
      const ips = this.podIps.get(pods[i]);
      for (let j = 0; j < ips.length; j++) b.ips.add(ips[j]);
    }
  }

  /** The body with its group id, one entry per key: the first rule (by policy, then index) wins. */
  private image(body: Body, id: u32): GroupImage {
    const img = new GroupImage();
    const n = body.tail.length;
    const order = new Array<i32>(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const plen = body.plen, tail = body.tail;
    sortPlen = plen;
    sortTail = tail;
    order.sort(byKeyThenPush);
    for (let k = 0; k < n; k++) {
      const i = order[k];
      if (k > 0 && plen[order[k - 1]] == plen[i] && tail[order[k - 1]] == tail[i]) continue;
      img.polHi.push(((<u64>bswap<u32>(<u32>plen[i])) << 32) | <u64>id);
      img.polLo.push(tail[i]);
      img.polRule.push(this.ruleIds.get(body.rules[i].name));
    }
    for (let i = 0; i < body.cidrs.length; i++) {
      const c = body.cidrs[i];
      img.cidrHi.push(((<u64>bswap<u32>(32 + <u32>c.len)) << 32) | <u64>id);
      img.cidrLo.push((<u64>c.addr) << 32);
      img.cidrVal.push(((<u64>(<u32>SL_PEER_CIDR + <u32>c.len)) << 32) | <u64>c.addr);
    }
    return img;
  }

  private ipidOf(ip: u32): IpidVal | null {
    if (!this.active) return null;
    if (this.nodeAddrs.includes(ip)) return new IpidVal(0, 0, 0, 0, 0, 0, <u8>SL_IPID_NODE_SELF);
    if (!this.ipOwners.has(ip)) return null;
    const key = this.ipOwners.get(ip)[0];
    const p = this.objects.pods.get(key);
    const v = new IpidVal(this.identityIds.get(this.podIdentity.get(key)), this.nsIds.get(p.ns), 0, 0, 0, 0, <u8>SL_IPID_POD);
    if (this.podGroups.has(key)) {
      const gk = this.podGroups.get(key);
      v.flags |= <u8>SL_IPID_LOCAL;
      if (gk[0].length > 0) { const g = this.groups.get(gk[0]); v.g0 = groupId(g); v.k0 = g.kinds; }
      if (gk[1].length > 0) { const g = this.groups.get(gk[1]); v.g1 = groupId(g); v.k1 = g.kinds; }
    }
    return v;
  }

  private emitIpids(b: Batch, before: MapSet, after: MapSet): void {
    if (b.toggled) {
      const held = this.ipid.keys();
      for (let i = 0; i < held.length; i++) b.ips.add(held[i]);
      const owned = this.ipOwners.keys();
      for (let i = 0; i < owned.length; i++) b.ips.add(owned[i]);
      for (let i = 0; i < this.nodeAddrs.length; i++) b.ips.add(this.nodeAddrs[i]);
    }
    const ips = b.ips.values();
    ips.sort(ipCompare);
    for (let i = 0; i < ips.length; i++) {
      const ip = ips[i];
      const old = this.ipid.has(ip) ? this.ipid.get(ip) : null;
      const now = this.ipidOf(ip);
      if (old != null && now != null && old.same(now)) continue;
      if (old != null) this.emit.ipid(before, ip, old);
      if (now != null) {
        this.emit.ipid(after, ip, now);
        this.ipid.set(ip, now);
      } else if (old != null) {
        this.ipid.delete(ip);
      }
    }
  }

  private emitNames(b: Batch, before: MapSet, after: MapSet): void {
    const names = b.rules.values();
    names.sort();
    for (let i = 0; i < names.length; i++) {
      const n = names[i];
      if (this.names.has(n)) this.emit.name(before, this.names.get(n), n);
      const id = this.ruleIds.get(n);
      if (id != 0 && this.ruleExists(n)) {
        this.emit.name(after, id, n);
        this.names.set(n, id);
      } else if (this.names.has(n)) {
        this.names.delete(n);
      }
    }
  }

  private ruleExists(name: string): bool {
    const key = name.substring(0, name.lastIndexOf(' '));
    return this.objects.policies.has(key);
  }

  ruleId(name: string): u32 { return this.ruleIds.get(name); }
}

const NO_IDENTITIES: Identity[] = []; // never written

/** A group without an id (full bucket) isolates its pods and allows nothing. */
@inline function groupId(g: Group): u32 { return g.id != 0 ? g.id : <u32>SL_GROUP_UNNUMBERED; }

function insertSorted(list: Identity[], id: Identity): void {
  let i = list.length;
  list.push(id);
  for (; i > 0 && list[i - 1].key > id.key; i--) list[i] = list[i - 1];
  list[i] = id;
}

// The entries image() orders: comparators cannot close over locals.
let sortPlen: u8[] = [];
let sortTail: u64[] = [];

function byKeyThenPush(x: i32, y: i32): i32 {
  const px = unchecked(sortPlen[x]), py = unchecked(sortPlen[y]);
  if (px != py) return i32(px > py) - i32(px < py);
  const tx = unchecked(sortTail[x]), ty = unchecked(sortTail[y]);
  if (tx != ty) return i32(tx > ty) - i32(tx < ty);
  return x - y;
}

/** Renumbers one bucket; adds the names whose id moved (or that came or went) to moved. */
function renumber(ids: NameIds, bucket: u32, moved: Set<string>): void {
  const names = ids.names(bucket);
  const before: u32[] = [];
  for (let j = 0; j < names.length; j++) before.push(ids.get(names[j]));
  ids.renumber(bucket);
  for (let j = 0; j < names.length; j++) if (ids.get(names[j]) != before[j]) moved.add(names[j]);
}

function hasNamed(ports: PortSpec[]): bool {
  for (let i = 0; i < ports.length; i++) if (unchecked(ports[i]).name.length > 0) return true;
  return false;
}

function peerNames(peer: Peer, ns: string, i: Identity, w: World): bool {
  const nsOk = peer.namespaces == null ? i.ns == ns : peer.namespaces!.matches(w.nsLabels(i.ns));
  return nsOk && (peer.pods == null || peer.pods!.matches(i.labels));
}

/** What one batch reached. */
class Batch {
  toggled: bool = false;
  pods: Set<string> = new Set();
  identities: Identity[] = []; // created, removed or renumbered
  idBuckets: Set<u32> = new Set();
  renumbered: Set<string> = new Set();
  namespaces: Set<string> = new Set(); // created, removed or renumbered
  relabelled: Map<string, Labels> = new Map(); // Namespace objects touched: labels before
  policies: Set<string> = new Set(); // content, rule ids or expansions changed
  rules: Set<string> = new Set();
  groups: Set<string> = new Set();
  groupBuckets: Set<u32> = new Set();
  gone: Map<string, Group> = new Map();
  ips: Set<u32> = new Set();

  oldLabels(ns: string, e: PolicyEngine): Labels { return this.relabelled.has(ns) ? this.relabelled.get(ns) : e.nsLabels(ns); }
}
