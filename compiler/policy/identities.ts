// Label identities, namespaces and addresses (doc/policy.md): which pods
// look alike to the cluster's selectors, the ids of identities and
// namespaces, and which pod holds each address. The engine asks it, per
// batch, to re-identify the pods a change reaches.
import { NameIds } from '../ids';
import { NO_IPS } from '../model';
import { Batch } from './batch';
import { Identity, selectorKeys, World } from './body';
import { IpOwners } from './ipOwners';
import { Labels, NamedPort, NO_LABELS, NO_PORTS, Pod, Policy } from './model';
import { Changes, PolicyObjects } from './objects';

const SEP = '\u0001';
const NO_IDENTITIES: Identity[] = []; // never written

export function countKey(m: Map<string, i32>, k: string, d: i32, flipped: Set<string>): void {
  const n = (m.has(k) ? m.get(k) : 0) + d;
  if (n == 0) m.delete(k);
  else m.set(k, n);
  if (n == 0 || n == d) flipped.add(k);
}

/** Adds d to k's count in m (absent when 0), and to its delta this batch. */
function addCount(m: Map<string, i32>, k: string, d: i32, deltas: Map<string, i32>): void {
  const n = (m.has(k) ? m.get(k) : 0) + d;
  if (n == 0) m.delete(k);
  else m.set(k, n);
  deltas.set(k, (deltas.has(k) ? deltas.get(k) : 0) + d);
}

/** The keys in use (count > 0) now and not before the deltas, or the reverse; in key order. */
function flips(m: Map<string, i32>, deltas: Map<string, i32>): string[] {
  const keys = deltas.keys();
  keys.sort();
  const out: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    const now = m.has(keys[i]) ? m.get(keys[i]) : 0;
    if ((now > 0) != (now - deltas.get(keys[i]) > 0)) out.push(keys[i]);
  }
  return out;
}

function insertSorted(list: Identity[], id: Identity): void {
  let i = list.length;
  list.push(id);
  for (; i > 0 && list[i - 1].key > id.key; i--) list[i] = list[i - 1];
  list[i] = id;
}

/** Renumbers one bucket; adds the names whose id moved (or that came or went) to moved. */
export function renumber(ids: NameIds, bucket: u32, moved: Set<string>): void {
  const names = ids.names(bucket);
  const before: u32[] = [];
  for (let j = 0; j < names.length; j++) before.push(ids.get(names[j]));
  ids.renumber(bucket);
  for (let j = 0; j < names.length; j++) if (ids.get(names[j]) != before[j]) moved.add(names[j]);
}

/** What reidentify counted for a pod, to be taken back when it changes or
 * goes: one entry for the three maps (identity, addresses, namespace) it was. */
class Registered {
  constructor(public identity: Identity | null, public ips: StaticArray<u32>, public ns: string) {}
}

export class Identities implements World {
  objects: PolicyObjects = new PolicyObjects();
  node: string = '';
  private labelKeys: Map<string, i32> = new Map(); // K, counted over policies
  private portNames: Map<string, i32> = new Map(); // N
  identitiesByKey: Map<string, Identity> = new Map();
  identityIds: NameIds = new NameIds();
  private registered: Map<string, Registered> = new Map(); // every pod; identity and addresses for networked ones
  ipOwners: IpOwners = new IpOwners();
  private nsCount: Map<string, i32> = new Map(); // pods + (1 if a Namespace object)
  nsIds: NameIds = new NameIds();
  private nsKnown: Set<string> = new Set();
  private localPods: Map<string, Set<string>> = new Map(); // this node's pods, by namespace
  private sortedIds: Identity[] | null = null;
  private idsByNs: Map<string, Identity[]> = new Map(); // sorted by key
  private sortedNs: string[] | null = null;
  private sortedPods: Pod[] | null = null;

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

  /** This node's pods in namespace ns, by key. */
  localIn(ns: string): string[] { return this.localPods.has(ns) ? this.localPods.get(ns).values() : []; }

  /** The namespaces holding this node's pods. */
  localNamespaces(): string[] { return this.localPods.keys(); }

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

  /** The identity of a networked pod, by its key. */
  identityOf(pod: string): Identity | null { return this.registered.has(pod) ? this.registered.get(pod).identity : null; }

  /** The addresses a pod holds, as last identified. */
  ipsOf(pod: string): StaticArray<u32> { return this.registered.get(pod).ips; }

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

  /** K and N: label keys and port names that the batch brings into use or out
   * of it re-identify the pods carrying them. A key that leaves and comes back
   * within the batch (a policy edited, the only one naming it) is no change. */
  countKeys(ch: Changes, b: Batch): void {
    const keys = ch.policies.keys();
    const keyDeltas = new Map<string, i32>(), nameDeltas = new Map<string, i32>();
    for (let i = 0; i < keys.length; i++) {
      const old = ch.policies.get(keys[i]);
      if (old != null) this.count(old, -1, keyDeltas, nameDeltas);
      if (this.objects.policies.has(keys[i])) this.count(this.objects.policies.get(keys[i]), 1, keyDeltas, nameDeltas);
    }
    const pk = ch.pods.keys();
    for (let i = 0; i < pk.length; i++) b.pods.add(pk[i]);
    const fk = flips(this.labelKeys, keyDeltas), fn = flips(this.portNames, nameDeltas);
    if (fk.length + fn.length == 0) return;
    const pods = this.objects.pods.values();
    for (let i = 0; i < pods.length; i++) {
      const p = pods[i];
      let hit = false;
      for (let j = 0; j < fk.length && !hit; j++) hit = p.labels.has(fk[j]);
      for (let j = 0; j < p.ports.length && !hit; j++) hit = fn.includes(p.ports[j].name);
      if (hit) b.pods.add(p.key);
    }
  }

  private count(p: Policy, d: i32, keyDeltas: Map<string, i32>, nameDeltas: Map<string, i32>): void {
    const keys: string[] = [], names: string[] = [];
    selectorKeys(p, keys, names);
    for (let i = 0; i < keys.length; i++) addCount(this.labelKeys, keys[i], d, keyDeltas);
    for (let i = 0; i < names.length; i++) addCount(this.portNames, names[i], d, nameDeltas);
  }

  /** ns SEP (k=v SEP)* SEP, then the named ports it resolves, by SEP; its parts
   * joined once (concatenated, issue 12's full sync left 100,000 strings of garbage). */
  private identityKey(p: Pod): string {
    const parts: string[] = [p.ns, SEP];
    for (let i = 0; i < p.labels.size; i++) {
      const k = p.labels.key(i);
      if (!this.labelKeys.has(k)) continue;
      parts.push(k);
      parts.push('=');
      parts.push(p.labels.value(i));
      parts.push(SEP);
    }
    parts.push(SEP);
    let named: string[] | null = null; // most pods resolve no port name a policy uses
    for (let i = 0; i < p.ports.length; i++) {
      const np = unchecked(p.ports[i]);
      if (!this.portNames.has(np.name)) continue;
      if (named == null) named = [];
      named.push(np.name + '/' + np.proto.toString() + '=' + np.port.toString());
    }
    if (named != null) {
      named.sort();
      for (let i = 0; i < named.length; i++) {
        if (i > 0) parts.push(SEP);
        parts.push(unchecked(named[i]));
      }
    }
    return parts.join('');
  }

  private newIdentity(p: Pod, key: string): Identity {
    let n = 0;
    for (let i = 0; i < p.labels.size; i++) if (this.labelKeys.has(p.labels.key(i))) n++;
    const l = new Labels(n);
    for (let i = 0, j = 0; i < p.labels.size; i++) {
      if (this.labelKeys.has(p.labels.key(i))) l.set(j++, p.labels.key(i), p.labels.value(i));
    }
    let named = 0;
    for (let i = 0; i < p.ports.length; i++) if (this.portNames.has(p.ports[i].name)) named++;
    const ports = named == 0 ? NO_PORTS : new StaticArray<NamedPort>(named);
    for (let i = 0, j = 0; i < p.ports.length && named > 0; i++) if (this.portNames.has(p.ports[i].name)) ports[j++] = p.ports[i];
    return new Identity(key, p.ns, l, ports);
  }

  /** Dirty pods get their identity, addresses and namespace count anew. */
  reidentify(ch: Changes, b: Batch): void {
    const keys = b.pods.values();
    keys.sort();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (this.registered.has(key)) this.unregister(key, this.registered.get(key), b);
      if (!this.objects.pods.has(key)) continue;
      const p = this.objects.pods.get(key);
      if (p.node == this.node && this.node.length > 0) {
        if (!this.localPods.has(p.ns)) this.localPods.set(p.ns, new Set());
        this.localPods.get(p.ns).add(key);
      }
      countKey(this.nsCount, p.ns, 1, b.namespaces);
      if (!p.networked) {
        this.registered.set(key, new Registered(null, NO_IPS, p.ns));
        continue;
      }
      const id = this.identify(p, b);
      id.members++;
      this.registered.set(key, new Registered(id, p.ips, p.ns));
      for (let j = 0; j < p.ips.length; j++) this.own(p.ips[j], key, b);
    }
    if (b.pods.size > 0) this.sortedPods = null;
    if (b.identities.length > 0) this.sortedIds = null;
  }

  /** Takes back what reidentify counted for a pod. */
  private unregister(key: string, r: Registered, b: Batch): void {
    const old = r.identity;
    if (old != null && --old.members == 0) {
      this.identitiesByKey.delete(old.key);
      const list = this.idsByNs.get(old.ns);
      list.splice(list.indexOf(old), 1);
      if (list.length == 0) this.idsByNs.delete(old.ns);
      b.idBuckets.add(this.identityIds.remove(old.key));
      b.identities.push(old);
    }
    for (let j = 0; j < r.ips.length; j++) this.unown(r.ips[j], key, b);
    countKey(this.nsCount, r.ns, -1, b.namespaces);
    this.registered.delete(key);
    if (!this.localPods.has(r.ns)) return;
    const local = this.localPods.get(r.ns);
    if (local.has(key)) local.delete(key);
    if (local.size == 0) this.localPods.delete(r.ns);
  }

  /** The pod's identity, made if it is the first of its kind. */
  private identify(p: Pod, b: Batch): Identity {
    const ik = this.identityKey(p);
    if (this.identitiesByKey.has(ik)) return this.identitiesByKey.get(ik);
    const id = this.newIdentity(p, ik);
    this.identitiesByKey.set(ik, id);
    if (!this.idsByNs.has(id.ns)) this.idsByNs.set(id.ns, [id]);
    else insertSorted(this.idsByNs.get(id.ns), id);
    b.idBuckets.add(this.identityIds.add(ik));
    b.identities.push(id);
    return id;
  }

  private own(ip: u32, pod: string, b: Batch): void {
    b.ips.add(ip);
    this.ipOwners.add(ip, pod);
  }

  private unown(ip: u32, pod: string, b: Batch): void {
    b.ips.add(ip);
    this.ipOwners.remove(ip, pod);
  }

  /** Ids of identities that existed before and moved: their entries and their pods' entries change. */
  renumberIdentities(b: Batch): void {
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
    const regs = this.registered.values();
    for (let i = 0; i < regs.length; i++) {
      const r = regs[i], id = r.identity;
      if (id == null || !moved.has(id.key)) continue;
      for (let j = 0; j < r.ips.length; j++) b.ips.add(r.ips[j]);
    }
  }

  /** Namespace objects and counts; ids renumbered; pods of a renumbered namespace re-emitted. */
  updateNamespaces(ch: Changes, b: Batch): void {
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
    if (b.namespaces.size == 0) return;
    const regs = this.registered.values();
    for (let i = 0; i < regs.length; i++) {
      const r = regs[i];
      if (!b.namespaces.has(r.ns)) continue;
      for (let j = 0; j < r.ips.length; j++) b.ips.add(r.ips[j]);
    }
  }
}
