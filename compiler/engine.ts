// The incremental compiler. It keeps the cluster, each Service's compiled
// frontends and backend sets, and what the maps hold; a batch recompiles
// only the Services it touched, then diffs the entries those Services
// (and any backend set whose id moved) had before against what they have now.
import { SL_KIND_CLUSTER_IP } from './abi/layouts';
import { Backend } from './backends';
import { Cluster } from './cluster';
import { MapSet, writeDiff } from './diff';
import { BsetState, emitBset, emitFront, FrontState } from './emit';
import { MAX_RANK, NameIds } from './ids';
import { tableSize } from './maglev';
import { PolicyEngine } from './policy/engine';
import { Problem, writeProblems } from './problems';
import { BsetSpec, bsetOwner, compileService, Compiled, describeKey, Front } from './services';

function sameBackends(a: StaticArray<Backend>, b: StaticArray<Backend>): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = unchecked(a[i]), y = unchecked(b[i]);
    if (x.id != y.id || x.ip != y.ip || x.port != y.port || x.flags != y.flags) return false;
  }
  return true;
}

// Up to this many backend sets, a scan finds one faster than a set is built.
const SCAN_MAX: i32 = 16;

/** The names of c's backend sets, as a set when a scan would cost too much: a
 * Service may have 65,535 ports, and one recompile looks up each old set. */
function bsetNames(c: Compiled): Set<string> | null {
  if (c.bsets.length <= SCAN_MAX) return null;
  const names = new Set<string>();
  for (let i = 0; i < c.bsets.length; i++) names.add(unchecked(c.bsets[i]).name);
  return names;
}

function hasBset(c: Compiled, names: Set<string> | null, name: string): bool {
  if (names) return names.has(name);
  for (let i = 0; i < c.bsets.length; i++) if (unchecked(c.bsets[i]).name == name) return true;
  return false;
}

// Which of two Services claiming one frontend keeps it (CVE-2020-8554: any
// namespace may write externalIPs, and a LoadBalancer's status): a ClusterIP,
// which the API server allocates, before any other kind; then the older
// Service (creationTimestamp); then the first by namespace/name. It depends
// on the claimants only, never on the order they came in.
function precedes(a: Front, b: Front): bool {
  const ca = a.kind == SL_KIND_CLUSTER_IP, cb = b.kind == SL_KIND_CLUSTER_IP;
  if (ca != cb) return ca;
  if (a.created != b.created) return a.created < b.created;
  return a.owner < b.owner;
}

/** Why winner precedes loser, for the loser's problem. */
function whyFirst(winner: Front, loser: Front): string {
  if (winner.kind == SL_KIND_CLUSTER_IP && loser.kind != SL_KIND_CLUSTER_IP) return 'a ClusterIP comes before any other claim';
  if (winner.created != loser.created) return 'the older Service comes first';
  return 'created at the same time: the first by namespace/name';
}

/** What one batch changed, gathered before anything is emitted. */
class Touched {
  bsets: Map<string, BsetState | null> = new Map(); // state before the batch; null: did not exist
  buckets: Set<u32> = new Set();
  fronts: Set<u64> = new Set();
}

export class Engine {
  cluster: Cluster = new Cluster();
  compiled: Map<string, Compiled> = new Map();
  bsets: Map<string, BsetSpec> = new Map();
  ids: NameIds = new NameIds();
  claims: Map<u64, Front[]> = new Map(); // frontend key -> claimants, by precedes()
  emitted: Map<u64, FrontState> = new Map();
  policy: PolicyEngine = new PolicyEngine();
  /** Moves on whenever problems() may have changed: reading them walks everything. */
  problemsVersion: u32 = 0;
  // Reused by every call: a full compile grows them to megabytes once.
  private before: MapSet = new MapSet();
  private after: MapSet = new MapSet();

  /** Applies a batch; returns the length of its diff, for piece() to hand out. */
  batch(ptr: usize, len: usize): u32 {
    const dirty = new Set<string>();
    this.cluster.apply(ptr, len, dirty);
    const t = new Touched();
    const svcs = dirty.values();
    svcs.sort();
    for (let i = 0; i < svcs.length; i++) this.recompile(svcs[i], t);
    this.renumber(t);
    const before = this.before, after = this.after;
    before.clear();
    after.clear();
    this.emitBsets(t, before, after);
    this.emitFronts(t, before, after);
    this.batchPolicy(before, after);
    return writeDiff(before, after);
  }

  private batchPolicy(before: MapSet, after: MapSet): void {
    const p = this.policy;
    if (p.objects !== this.cluster.policy) p.attach(this.cluster.policy, String.UTF8.decode(this.cluster.nodeBytes));
    const version = p.problemsVersion;
    p.batch(this.cluster.nodeAddrs, before, after);
    if (p.problemsVersion != version) this.problemsVersion++;
  }

  /** Every entry the maps should hold, as a diff from empty maps: its length, as batch. */
  rebuild(): u32 {
    const before = this.before, after = this.after;
    before.clear();
    after.clear();
    const names = this.bsets.keys();
    for (let i = 0; i < names.length; i++) emitBset(after, this.ids.get(names[i]), this.bsets.get(names[i]));
    const keys = this.emitted.keys();
    for (let i = 0; i < keys.length; i++) emitFront(after, keys[i], this.emitted.get(keys[i]));
    this.policy.rebuild(after);
    return writeDiff(before, after);
  }

  problems(): usize {
    const ps: Problem[] = [];
    const cs = this.compiled.values();
    for (let i = 0; i < cs.length; i++) for (let j = 0; j < cs[i].problems.length; j++) ps.push(cs[i].problems[j]);
    const claims = this.claims.values();
    for (let i = 0; i < claims.length; i++) {
      const fs = claims[i];
      for (let j = 1; j < fs.length; j++) {
        ps.push(new Problem('Service ' + fs[j].owner, fs[j].field, 'frontend ' + describeKey(fs[j].key) +
          ' is also claimed by Service ' + fs[0].owner + ', which keeps it (' + whyFirst(fs[0], fs[j]) + ')'));
      }
    }
    const names = this.bsets.keys();
    for (let i = 0; i < names.length; i++) {
      if (this.ids.get(names[i]) != 0) continue;
      ps.push(new Problem('Service ' + bsetOwner(names[i]), 'spec.ports', 'backend set ' + names[i] +
        ' got no id (its id bucket is full): its frontends reject'));
    }
    this.policy.problems(ps);
    return writeProblems(ps);
  }

  /** Records a backend set's state before the batch first changes it. */
  private snapshot(name: string, t: Touched): void {
    if (t.bsets.has(name)) return;
    if (!this.bsets.has(name)) {
      t.bsets.set(name, null);
      return;
    }
    t.bsets.set(name, new BsetState(this.ids.get(name), this.bsets.get(name)));
  }

  private recompile(key: string, t: Touched): void {
    const old = this.compiled.has(key) ? this.compiled.get(key) : Compiled.NOTHING;
    const neu = this.cluster.services.has(key) ? compileService(this.cluster, this.cluster.services.get(key)) : Compiled.NOTHING;
    const neuNames = bsetNames(neu);
    for (let i = 0; i < old.bsets.length; i++) {
      const name = unchecked(old.bsets[i]).name;
      if (hasBset(neu, neuNames, name)) continue;
      this.snapshot(name, t);
      this.bsets.delete(name);
      // Over-full before this name leaves: a name without an id may get one, however many leave.
      if (this.ids.names(this.ids.bucket(name)).length > MAX_RANK) this.problemsVersion++;
      t.buckets.add(this.ids.remove(name));
    }
    for (let i = 0; i < neu.bsets.length; i++) {
      const spec = unchecked(neu.bsets[i]);
      if (!this.bsets.has(spec.name)) {
        this.snapshot(spec.name, t);
        t.buckets.add(this.ids.add(spec.name));
      } else if (!sameBackends(this.bsets.get(spec.name).backends, spec.backends)) {
        this.snapshot(spec.name, t);
      } else {
        continue; // the same: the live spec stays
      }
      this.bsets.set(spec.name, spec);
    }
    if (old.problems.length + neu.problems.length > 0) this.problemsVersion++;
    for (let i = 0; i < old.fronts.length; i++) this.unclaim(unchecked(old.fronts[i]), t);
    for (let i = 0; i < neu.fronts.length; i++) this.claim(unchecked(neu.fronts[i]), t);
    if (neu.fronts.length + neu.bsets.length + neu.problems.length > 0) this.compiled.set(key, neu);
    else if (this.compiled.has(key)) this.compiled.delete(key);
  }

  /** Gives new ids in every bucket that gained or lost a name. */
  private renumber(t: Touched): void {
    const buckets = t.buckets.values();
    for (let i = 0; i < buckets.length; i++) {
      const names = this.ids.names(buckets[i]);
      if (names.length >= MAX_RANK) this.problemsVersion++; // full now, or was before a name left
      for (let j = 0; j < names.length; j++) this.snapshot(names[j], t);
      this.ids.renumber(buckets[i]);
    }
  }

  private emitBsets(t: Touched, before: MapSet, after: MapSet): void {
    const names = t.bsets.keys();
    // By id: then each map's entries come in key order, and sorting them is a check.
    const byId = new Array<u64>(names.length);
    for (let i = 0; i < names.length; i++) unchecked(byId[i] = ((<u64>this.ids.get(names[i])) << 32) | <u64>i);
    byId.sort();
    const owners = new Set<string>(); // whose frontends are in t.fronts already
    for (let i = 0; i < byId.length; i++) {
      const name = unchecked(names[<i32>(<u32>unchecked(byId[i]))]);
      const old = t.bsets.get(name);
      if (old) emitBset(before, old.id, old.spec);
      let owner: string;
      if (this.bsets.has(name)) {
        const spec = this.bsets.get(name);
        emitBset(after, <u32>(unchecked(byId[i]) >> 32), spec);
        owner = spec.owner;
      } else {
        owner = old!.spec.owner;
      }
      // The values of its frontends carry the set's id and size: once per
      // owner, not once per set (a Service has a set or two per port).
      if (owners.has(owner) || !this.compiled.has(owner)) continue;
      owners.add(owner);
      const fronts = this.compiled.get(owner).fronts;
      for (let j = 0; j < fronts.length; j++) t.fronts.add(unchecked(fronts[j]).key);
    }
  }

  private emitFronts(t: Touched, before: MapSet, after: MapSet): void {
    const keys = t.fronts.values();
    keys.sort(); // key order, as for backend sets
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (this.emitted.has(k)) emitFront(before, k, this.emitted.get(k));
      if (!this.claims.has(k)) {
        if (this.emitted.has(k)) this.emitted.delete(k);
        continue;
      }
      const f = this.frontState(this.claims.get(k)[0]);
      emitFront(after, k, f);
      this.emitted.set(k, f);
    }
  }

  private frontState(f: Front): FrontState {
    const id = this.ids.get(f.bset);
    const n = id == 0 ? 0 : this.bsets.get(f.bset).backends.length;
    return new FrontState(id, tableSize(n), f.affinity, <u16>n, f.kind, f.flags, f.ranges);
  }

  private claim(f: Front, t: Touched): void {
    t.fronts.add(f.key);
    if (!this.claims.has(f.key)) {
      this.claims.set(f.key, [f]);
      return;
    }
    const fs = this.claims.get(f.key);
    fs.push(f);
    this.problemsVersion++; // a second claimant: a conflict
    for (let i = fs.length - 1; i > 0 && precedes(f, fs[i - 1]); i--) {
      fs[i] = fs[i - 1];
      fs[i - 1] = f;
    }
  }

  private unclaim(f: Front, t: Touched): void {
    t.fronts.add(f.key);
    const fs = this.claims.get(f.key);
    if (fs.length > 1) this.problemsVersion++; // a conflict changes or ends
    for (let i = 0; i < fs.length; i++) {
      if (fs[i].owner == f.owner) { fs.splice(i, 1); break; }
    }
    if (fs.length == 0) this.claims.delete(f.key);
  }
}
