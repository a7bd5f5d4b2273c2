// The incremental NetworkPolicy compiler (doc/policy.md). It keeps label
// identities, namespaces, each policy's expanded rules and each local policy
// group's image; a batch finds what its changes reach (pods re-identified,
// groups whose policies or expansions moved, addresses whose entry moved),
// recomputes those whole, and diffs them against what the maps hold.
import { SL_GROUP_UNNUMBERED, SL_IPID_LOCAL, SL_IPID_NODE_SELF, SL_IPID_POD, SL_PEER_CIDR, SL_POLSTATE_ANY_POLICY } from '../abi/layouts';
import { MapSet } from '../diff';
import { NameIds } from '../ids';
import { Problem } from '../problems';
import { Batch, Group } from './batch';
import { Body, compileBody, expandRule, Expansions, RuleExp, USES_PODS } from './body';
import { Emitter, GroupImage, IpidVal } from './emit';
import { Identities, renumber } from './identities';
import { Labels, NamedPort, Peer, Pod, Policy } from './model';
import { Changes, PolicyObjects } from './objects';
import { hasNamed, namesAll, namesIdentities, peerNames, ReachIndex } from './reach';

const SEP = '\u0001';

function ipCompare(a: u32, b: u32): i32 { return i32(a > b) - i32(a < b); }

export class PolicyEngine implements Expansions {
  ids: Identities = new Identities();
  objects: PolicyObjects = new PolicyObjects();
  node: string = '';
  nodeAddrs: u32[] = []; // host order, what sl_ipid holds as NODE_SELF
  active: bool = false;
  emit: Emitter = new Emitter();
  /** Moves on whenever problems() may change. */
  problemsVersion: u32 = 0;

  private policiesByNs: Map<string, Policy[]> = new Map();
  private exps: Map<string, StaticArray<RuleExp[]>> = new Map();
  private reach: ReachIndex = new ReachIndex(true); // by the identities a policy names
  private nsReach: ReachIndex = new ReachIndex(false); // by the namespaces it names
  groups: Map<string, Group> = new Map();
  private groupIds: NameIds = new NameIds();
  podGroups: Map<string, StaticArray<string>> = new Map(); // local pods: group key by direction
  private ruleIds: NameIds = new NameIds();
  private names: Map<string, u32> = new Map(); // sl_polname as held
  ipid: Map<u32, IpidVal> = new Map(); // sl_ipid as held

  /** The objects the cluster keeps, and this node's name. */
  attach(objects: PolicyObjects, node: string): void {
    this.objects = this.ids.objects = objects;
    this.node = this.ids.node = node;
  }

  // Expansions
  of(p: Policy, dir: i32): RuleExp[] {
    if (!this.exps.has(p.key)) {
      const e = new StaticArray<RuleExp[]>(2);
      for (let d = 0; d < 2; d++) {
        const rules = p.rules[d];
        const out: RuleExp[] = [];
        for (let i = 0; i < rules.length; i++) out.push(expandRule(unchecked(rules[i]), p.ns, d == 1, this.ids));
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
    this.ids.countKeys(ch, b);
    this.ids.reidentify(ch, b);
    this.ids.renumberIdentities(b);
    this.ids.updateNamespaces(ch, b);
    this.updateRules(ch, b);
    this.reach.update(ch, this.objects);
    this.nsReach.update(ch, this.objects);
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
   * or namespace one of its peers names. Only the policies the indexes give
   * for the namespaces moved, relabelled or holding a moved identity are tested. */
  private invalidateExpansions(ch: Changes, b: Batch): void {
    // The batch's own policies (changed, renumbered or deleted: all in
    // b.policies) lose theirs.
    const own = b.policies.values();
    for (let i = 0; i < own.length; i++) if (this.exps.has(own[i])) this.exps.delete(own[i]);
    if (b.namespaces.size > 0 || b.relabelled.size > 0) {
      const nss = b.namespaces.values().concat(b.relabelled.keys());
      this.invalidateReached(this.nsReach.always, b);
      for (let i = 0; i < nss.length; i++) {
        // the peers naming it before (its old labels) or after
        this.invalidateIn(this.nsReach, nss[i], b.oldLabels(nss[i], this.ids), b);
        this.invalidateIn(this.nsReach, nss[i], this.ids.nsLabels(nss[i]), b);
      }
    }
    if (b.identities.length == 0) return;
    this.invalidateReached(this.reach.always, b);
    const seen = new Set<string>();
    for (let i = 0; i < b.identities.length; i++) {
      const ns = unchecked(b.identities[i]).ns;
      if (seen.has(ns)) continue;
      seen.add(ns);
      this.invalidateIn(this.reach, ns, this.ids.nsLabels(ns), b);
    }
  }

  /** Tests the policies that index gives for namespace ns, labelled l. */
  private invalidateIn(index: ReachIndex, ns: string, l: Labels, b: Batch): void {
    this.invalidateReached(index.localTo(ns), b);
    for (let j = 0; j < l.size; j++) this.invalidateReached(index.requiring(l.key(j), l.value(j)), b);
  }

  private invalidateReached(keys: string[], b: Batch): void {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (!this.exps.has(key) || b.policies.has(key)) continue;
      if (!this.objects.policies.has(key) || this.reaches(this.objects.policies.get(key), b)) {
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
          if (namesIdentities(peer, named)) {
            for (let i = 0; i < b.identities.length; i++) if (peerNames(peer, p.ns, unchecked(b.identities[i]), this.ids)) return true;
          }
        }
        if (namesAll(rule, named) && b.identities.length > 0) return true;
      }
    }
    return false;
  }

  /** A namespace whose labels, existence or id changed, and which the peer's namespace part names before or after. */
  private peerReachedByNs(peer: Peer, p: Policy, b: Batch): bool {
    const moved = b.namespaces.values();
    for (let i = 0; i < moved.length; i++) {
      const ns = moved[i];
      if (peer.namespaces == null ? ns == p.ns : peer.namespaces!.matches(this.ids.nsLabels(ns)) || peer.namespaces!.matches(b.oldLabels(ns, this.ids))) return true;
    }
    const relabelled = b.relabelled.keys();
    for (let i = 0; i < relabelled.length; i++) {
      if (peer.namespaces == null) continue;
      const ns = relabelled[i];
      if (peer.namespaces!.matches(this.ids.nsLabels(ns)) != peer.namespaces!.matches(b.relabelled.get(ns))) return true;
    }
    return false;
  }

  /** Local pods whose groups may have moved get their group keys anew. */
  private regroup(ch: Changes, b: Batch): void {
    const touchedNs = this.indexPolicies(ch);
    const candidates = new Set<string>();
    const dirty = b.pods.values();
    for (let i = 0; i < dirty.length; i++) candidates.add(dirty[i]);
    const nss = b.toggled ? this.ids.localNamespaces() : touchedNs;
    for (let i = 0; i < nss.length; i++) {
      const locals = this.ids.localIn(nss[i]);
      for (let j = 0; j < locals.length; j++) candidates.add(locals[j]);
    }
    const keys = candidates.values();
    keys.sort();
    for (let i = 0; i < keys.length; i++) this.regroupPod(keys[i], b);
    this.dirtyGroups(b);
  }

  /** Groups whose policies' content or expansions changed. A group's policies are of its pods' namespace, so the
   * groups holding a policy are found through the local pods of the namespace in its key. */
  private dirtyGroups(b: Batch): void {
    if (b.toggled || b.pods.size > 0) {
      const gs = this.groups.values();
      for (let i = 0; i < gs.length; i++) if (b.toggled || (gs[i].uses & USES_PODS) != 0) b.groups.add(gs[i].key);
      if (b.toggled) return;
    }
    const pols = b.policies.values();
    for (let i = 0; i < pols.length; i++) {
      const key = pols[i];
      const locals = this.ids.localIn(key.substring(0, key.indexOf('/')));
      for (let j = 0; j < locals.length; j++) {
        if (!this.podGroups.has(locals[j])) continue;
        const gk = this.podGroups.get(locals[j]);
        for (let d = 0; d < 2; d++) {
          if (gk[d].length == 0 || b.groups.has(gk[d])) continue;
          if (this.groups.get(gk[d]).policies.includes(key)) b.groups.add(gk[d]);
        }
      }
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

  /** Files the batch's policies under their namespaces, each list in key order; returns those namespaces.
   * Only those lists are read and rebuilt: a walk of every policy (1,000 on issue 12's cluster) was most of
   * a policy change's compile. */
  private indexPolicies(ch: Changes): string[] {
    const fresh = new Map<string, Policy[]>(); // touched namespace -> its changed policies as they are now
    const keys = ch.policies.keys();
    for (let i = 0; i < keys.length; i++) {
      const old = ch.policies.get(keys[i]);
      if (old != null && !fresh.has(old.ns)) fresh.set(old.ns, []);
      if (!this.objects.policies.has(keys[i])) continue;
      const p = this.objects.policies.get(keys[i]);
      if (fresh.has(p.ns)) fresh.get(p.ns).push(p);
      else fresh.set(p.ns, [p]);
    }
    const nss = fresh.keys();
    for (let i = 0; i < nss.length; i++) {
      const ns = nss[i];
      const list = fresh.get(ns);
      if (this.policiesByNs.has(ns)) {
        const held = this.policiesByNs.get(ns);
        for (let j = 0; j < held.length; j++) if (!ch.policies.has(held[j].key)) list.push(held[j]);
      }
      if (list.length == 0) {
        if (this.policiesByNs.has(ns)) this.policiesByNs.delete(ns);
        continue;
      }
      list.sort((a: Policy, b: Policy): i32 => (a.key < b.key ? -1 : i32(a.key > b.key)));
      this.policiesByNs.set(ns, list);
    }
    return nss;
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
      // A group its last pod left earlier in this batch comes back with the
      // image and id the maps still hold for it (its key fixes its content),
      // so emitGroups diffs against those rather than against nothing.
      if (b.gone.has(key)) {
        this.groups.set(key, b.gone.get(key));
        b.gone.delete(key);
      } else {
        const pols = this.selecting(p, dir);
        this.groups.set(key, new Group(key, dir, pols, dir == 0 ? this.resolution(p, pols) : []));
      }
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
        const body = compileBody(pols, g.dir, g.resolved, this.ids, this);
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
      const ips = this.ids.ipsOf(pods[i]);
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
    if (!this.ids.ipOwners.has(ip)) return null;
    const key = this.ids.ipOwners.owner(ip);
    const p = this.objects.pods.get(key);
    const v = new IpidVal(this.ids.identityId(this.ids.identityOf(key)!), this.ids.nsIds.get(p.ns), 0, 0, 0, 0, <u8>SL_IPID_POD);
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
      const owned = this.ids.ipOwners.addresses();
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

/** A group without an id (full bucket) isolates its pods and allows nothing. */
@inline function groupId(g: Group): u32 { return g.id != 0 ? g.id : <u32>SL_GROUP_UNNUMBERED; }

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
