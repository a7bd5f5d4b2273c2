// One Service in, its frontends and backend sets out, by kube-proxy's rules:
// ClusterIPs, NodePorts on this node's addresses, externalIPs and
// LoadBalancer ingress IPs; externalTrafficPolicy=Local restricts the
// external ones to this node's endpoints (and gives each an in-cluster twin
// with every endpoint), internalTrafficPolicy=Local does so for ClusterIPs.
// Headless and ExternalName Services get nothing.
import {
  SL_KIND_CLUSTER_IP, SL_KIND_EXTERNAL_IP, SL_KIND_LOAD_BALANCER, SL_KIND_NODE_PORT, SL_SCOPE_ALL,
  SL_SCOPE_INTERNAL, SL_SVC_AFFINITY, SL_SVC_HAS_INTERNAL, SL_SVC_LOCAL, SL_SVC_SRC_RANGES,
} from './abi/layouts';
import {
  SVC_TYPE_EXTERNAL_NAME, SVC_TYPE_LOAD_BALANCER, SVC_TYPE_NODE_PORT, SVCF_AFFINITY,
  SVCF_EXTERNAL_LOCAL, SVCF_HEADLESS, SVCF_INTERNAL_LOCAL,
} from './abi/records';
import { Backend, selectBackends, selfBackends } from './backends';
import { Cluster } from './cluster';
import { assignBackendIds } from './ids';
import { Cidr, NO_CIDRS, Service, Slice } from './model';
import { ipString, Problem, protoString } from './problems';
import { chunks } from './tables';

const MAX_BACKENDS: i32 = 0xffff; // svc_val.count is a u16

// One Service's selection tables, in sl_maglev entries (64 slots each): at
// most what sl_maglev holds at its default size (SL_MAGLEV_MAX in
// bpf/include/sluice_maps.h). A table of 65,535 backends fits (819,201
// entries); 40 ports of 5,000 would take 4,096,040, and their diff, at 264
// bytes an entry, more than the 1 GiB the compiler's allocator gives at once.
// Ports count in spec order; one that would pass the limit is left out whole.
const MAX_SERVICE_TABLE_ENTRIES: u32 = 1 << 20;

export class Front {
  constructor(
    public key: u64, // svc_key bytes as a number: vip, port, proto, scope
    public owner: string, // "namespace/name" of the Service
    public created: u32, // the Service's creationTimestamp: the older keeps a contested frontend
    public kind: u8,
    public flags: u8,
    public bset: string, // backend set name
    public affinity: u32,
    public ranges: StaticArray<Cidr>,
    public field: string, // where it comes from, for problems
  ) {}
}

export class BsetSpec {
  constructor(public name: string, public owner: string, public backends: StaticArray<Backend>) {}
}

// Never written: a StaticArray of length 0 has nothing to write.
const NO_FRONTS = new StaticArray<Front>(0);
const NO_BSETS = new StaticArray<BsetSpec>(0);
const NO_PROBLEMS = new StaticArray<Problem>(0);

/** What one Service compiles to. Immutable, with lists of their exact length. */
export class Compiled {
  static readonly NOTHING: Compiled = new Compiled();
  fronts: StaticArray<Front> = NO_FRONTS;
  bsets: StaticArray<BsetSpec> = NO_BSETS;
  problems: StaticArray<Problem> = NO_PROBLEMS;
}

export function frontKey(vip: u32, port: u16, proto: u8, scope: i32): u64 {
  return ((<u64>bswap<u32>(vip)) << 32) | ((<u64>port) << 16) | ((<u64>proto) << 8) | <u64>scope;
}

/** Owner of a backend set, from its name. */
export function bsetOwner(name: string): string {
  return name.substring(0, name.indexOf('|'));
}

// What the Service being compiled has so far: scratch that every compile
// reuses, copied out at the end into lists of their exact length.
const builtFronts: Front[] = [];
const builtBsets: BsetSpec[] = [];
const builtProblems: Problem[] = [];
// What they hold, for lookups that must not scan: a Service may have 65,535 ports.
const builtBsetNames = new Set<string>();
const builtKeys = new Set<u64>();

/** A copy of scratch, or none (shared, empty) when there is nothing to copy. */
function exact<T>(scratch: T[], none: StaticArray<T>): StaticArray<T> {
  return scratch.length == 0 ? none : StaticArray.fromArray<T>(scratch);
}

class Builder {
  private entries: u32 = 0; // sl_maglev entries of the ports kept so far
  private portEntries: u32 = 0; // and of the port being built
  // How many fronts, backend sets and problems there were before it.
  private frontsMark: i32 = 0;
  private bsetsMark: i32 = 0;
  private problemsMark: i32 = 0;

  constructor(public cluster: Cluster, public svc: Service) {
    builtFronts.length = 0;
    builtBsets.length = 0;
    builtProblems.length = 0;
    if (builtBsetNames.size > 0) builtBsetNames.clear();
    if (builtKeys.size > 0) builtKeys.clear();
  }

  finish(): Compiled {
    const c = new Compiled();
    c.fronts = exact(builtFronts, NO_FRONTS);
    c.bsets = exact(builtBsets, NO_BSETS);
    c.problems = exact(builtProblems, NO_PROBLEMS);
    return c;
  }

  beginPort(): void {
    this.portEntries = 0;
    this.frontsMark = builtFronts.length;
    this.bsetsMark = builtBsets.length;
    this.problemsMark = builtProblems.length;
  }

  /** Keeps port i, or leaves it out whole if its tables pass the Service's limit. */
  endPort(i: i32): void {
    const total = <u64>this.entries + <u64>this.portEntries;
    if (total <= <u64>MAX_SERVICE_TABLE_ENTRIES) {
      this.entries = <u32>total;
      return;
    }
    for (let j = this.frontsMark; j < builtFronts.length; j++) builtKeys.delete(unchecked(builtFronts[j]).key);
    for (let j = this.bsetsMark; j < builtBsets.length; j++) builtBsetNames.delete(unchecked(builtBsets[j]).name);
    builtFronts.length = this.frontsMark;
    builtBsets.length = this.bsetsMark;
    builtProblems.length = this.problemsMark; // what they said of the port goes with it
    this.problem('spec.ports[' + i.toString() + ']', 'its selection tables take ' + this.portEntries.toString() +
      ' sl_maglev entries of 64 slots; with the ports before it the Service would take ' + total.toString() +
      ', more than the ' + MAX_SERVICE_TABLE_ENTRIES.toString() + ' one Service may: the port is left out');
  }

  /** The backend set of port i, cluster-wide or node-local, made on first use. */
  bset(i: i32, local: bool): string {
    const p = unchecked(this.svc.ports[i]);
    const name = `${this.svc.key}|${p.name}|${p.port}|${protoString(p.proto)}|${local ? 'local' : 'cluster'}`;
    if (builtBsetNames.has(name)) return name;
    let bs = selectBackends(this.cluster, this.svc, p, local);
    if (bs.length > MAX_BACKENDS) {
      this.problem('spec.ports[' + i.toString() + ']', bs.length.toString() + ' backends; the first ' + MAX_BACKENDS.toString() + ' are used');
      bs = StaticArray.slice<Backend>(bs, 0, MAX_BACKENDS);
    }
    const kept = assignBackendIds(bs);
    if (kept.length < bs.length) {
      this.problem('spec.ports[' + i.toString() + ']', (bs.length - kept.length).toString() + ' backends left out: their id bucket is full');
    }
    builtBsets.push(new BsetSpec(name, this.svc.key, kept));
    builtBsetNames.add(name);
    this.portEntries += chunks(kept.length);
    return name;
  }

  front(vip: u32, i: i32, port: u16, kind: i32, local: bool, field: string): void {
    const p = unchecked(this.svc.ports[i]);
    const ranges = kind == SL_KIND_LOAD_BALANCER ? this.svc.sourceRanges : NO_CIDRS;
    let flags = (this.svc.flags & SVCF_AFFINITY ? SL_SVC_AFFINITY : 0) | (ranges.length > 0 ? SL_SVC_SRC_RANGES : 0);
    const twin = local && kind != SL_KIND_CLUSTER_IP;
    this.add(frontKey(vip, port, p.proto, SL_SCOPE_ALL), kind,
      flags | (local ? SL_SVC_LOCAL : 0) | (twin ? SL_SVC_HAS_INTERNAL : 0), this.bset(i, local), ranges, field);
    // The twin shares the frontend's source ranges: sl_srcrange keys have no scope.
    if (twin) this.add(frontKey(vip, port, p.proto, SL_SCOPE_INTERNAL), kind, flags, this.bset(i, false), NO_CIDRS, field);
  }

  private add(key: u64, kind: i32, flags: i32, bset: string, ranges: StaticArray<Cidr>, field: string): void {
    if (builtKeys.has(key)) {
      this.problem(field, 'frontend ' + describeKey(key) + ' is listed twice; the first is used');
      return;
    }
    builtKeys.add(key);
    builtFronts.push(new Front(key, this.svc.key, this.svc.created, <u8>kind, <u8>flags, bset, this.svc.affinity, ranges, field));
  }

  problem(field: string, reason: string): void {
    builtProblems.push(new Problem('Service ' + this.svc.key, field, reason));
  }
}

// Closures cannot capture in AssemblyScript: the Service being compiled, for selfBackend.
let compiling: Service = new Service();

function selfBackend(s: Slice, i: i32, ip: u32): void {
  builtProblems.push(new Problem('EndpointSlice ' + s.key, 'endpoints[' + i.toString() + '].addresses[0]', ipString(ip) +
    ' is a ClusterIP of Service ' + compiling.key + ', which cannot be its own backend; left out'));
}

export function describeKey(key: u64): string {
  const vip = bswap<u32>(<u32>(key >> 32));
  return ipString(vip) + ':' + (<u16>(key >> 16)).toString() + '/' + protoString(<u8>(key >> 8));
}

export function compileService(cluster: Cluster, svc: Service): Compiled {
  if (svc.flags & SVCF_HEADLESS || svc.type == SVC_TYPE_EXTERNAL_NAME) return Compiled.NOTHING;
  const b = new Builder(cluster, svc);
  const extLocal = (svc.flags & SVCF_EXTERNAL_LOCAL) != 0;
  const intLocal = (svc.flags & SVCF_INTERNAL_LOCAL) != 0;
  const nodePorts = svc.type == SVC_TYPE_NODE_PORT || svc.type == SVC_TYPE_LOAD_BALANCER;
  compiling = svc;
  selfBackends(cluster, svc, selfBackend);
  for (let i = 0; i < svc.ports.length; i++) {
    const p = unchecked(svc.ports[i]);
    b.beginPort();
    for (let j = 0; j < svc.clusterIPs.length; j++) {
      b.front(svc.clusterIPs[j], i, p.port, SL_KIND_CLUSTER_IP, intLocal, 'spec.clusterIPs');
    }
    if (nodePorts && p.nodePort != 0 && cluster.nodeAddrs.length > 0) {
      const addrs = cluster.nodeAddrs, field = 'spec.ports[' + i.toString() + '].nodePort';
      for (let j = 0; j < addrs.length; j++) b.front(addrs[j], i, p.nodePort, SL_KIND_NODE_PORT, extLocal, field);
    }
    for (let j = 0; j < svc.externalIPs.length; j++) {
      b.front(svc.externalIPs[j], i, p.port, SL_KIND_EXTERNAL_IP, extLocal, 'spec.externalIPs');
    }
    if (svc.type == SVC_TYPE_LOAD_BALANCER) {
      for (let j = 0; j < svc.lbIPs.length; j++) {
        b.front(svc.lbIPs[j], i, p.port, SL_KIND_LOAD_BALANCER, extLocal, 'status.loadBalancer.ingress');
      }
    }
    b.endPort(i);
  }
  return b.finish();
}
