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
import { Backend, selectBackends } from './backends';
import { Cluster } from './cluster';
import { assignBackendIds } from './ids';
import { Cidr, Service, ServicePort } from './model';
import { ipString, Problem, protoString } from './problems';

const MAX_BACKENDS: i32 = 0xffff; // svc_val.count is a u16

export class Front {
  constructor(
    public key: u64, // svc_key bytes as a number: vip, port, proto, scope
    public owner: string, // "namespace/name" of the Service
    public kind: u8,
    public flags: u8,
    public bset: string, // backend set name
    public affinity: u32,
    public ranges: Cidr[],
    public field: string, // where it comes from, for problems
  ) {}
}

export class BsetSpec {
  constructor(public name: string, public owner: string, public backends: Backend[]) {}
}

export class Compiled {
  fronts: Front[] = [];
  bsets: BsetSpec[] = [];
  problems: Problem[] = [];
}

export function frontKey(vip: u32, port: u16, proto: u8, scope: i32): u64 {
  return ((<u64>bswap<u32>(vip)) << 32) | ((<u64>port) << 16) | ((<u64>proto) << 8) | <u64>scope;
}

/** Owner of a backend set, from its name. */
export function bsetOwner(name: string): string {
  return name.substring(0, name.indexOf('|'));
}

class Builder {
  c: Compiled = new Compiled();
  cluster: Cluster;
  svc: Service;
  object: string;

  constructor(cluster: Cluster, svc: Service) {
    this.cluster = cluster;
    this.svc = svc;
    this.object = 'Service ' + svc.key;
  }

  /** The backend set of port i, cluster-wide or node-local, made on first use. */
  bset(i: i32, local: bool): string {
    const p = this.svc.ports[i];
    const name = `${this.svc.key}|${p.name}|${p.port}|${protoString(p.proto)}|${local ? 'local' : 'cluster'}`;
    for (let j = 0; j < this.c.bsets.length; j++) if (this.c.bsets[j].name == name) return name;
    let bs = selectBackends(this.cluster, this.svc, p, local);
    if (bs.length > MAX_BACKENDS) {
      this.problem('spec.ports[' + i.toString() + ']', bs.length.toString() + ' backends; the first ' + MAX_BACKENDS.toString() + ' are used');
      bs = bs.slice(0, MAX_BACKENDS);
    }
    const kept = assignBackendIds(bs);
    if (kept.length < bs.length) {
      this.problem('spec.ports[' + i.toString() + ']', (bs.length - kept.length).toString() + ' backends left out: their id bucket is full');
    }
    this.c.bsets.push(new BsetSpec(name, this.svc.key, kept));
    return name;
  }

  front(vip: u32, i: i32, port: u16, kind: i32, local: bool, field: string): void {
    const p = this.svc.ports[i];
    const ranges = kind == SL_KIND_LOAD_BALANCER ? this.svc.sourceRanges : new Array<Cidr>();
    let flags = (this.svc.flags & SVCF_AFFINITY ? SL_SVC_AFFINITY : 0) | (ranges.length > 0 ? SL_SVC_SRC_RANGES : 0);
    const twin = local && kind != SL_KIND_CLUSTER_IP;
    this.add(frontKey(vip, port, p.proto, SL_SCOPE_ALL), kind,
      flags | (local ? SL_SVC_LOCAL : 0) | (twin ? SL_SVC_HAS_INTERNAL : 0), this.bset(i, local), ranges, field);
    // The twin shares the frontend's source ranges: sl_srcrange keys have no scope.
    if (twin) this.add(frontKey(vip, port, p.proto, SL_SCOPE_INTERNAL), kind, flags, this.bset(i, false), [], field);
  }

  private add(key: u64, kind: i32, flags: i32, bset: string, ranges: Cidr[], field: string): void {
    for (let i = 0; i < this.c.fronts.length; i++) {
      if (this.c.fronts[i].key != key) continue;
      this.problem(field, 'frontend ' + describeKey(key) + ' is listed twice; the first is used');
      return;
    }
    this.c.fronts.push(new Front(key, this.svc.key, <u8>kind, <u8>flags, bset, this.svc.affinity, ranges, field));
  }

  problem(field: string, reason: string): void {
    this.c.problems.push(new Problem(this.object, field, reason));
  }
}

export function describeKey(key: u64): string {
  const vip = bswap<u32>(<u32>(key >> 32));
  return ipString(vip) + ':' + (<u16>(key >> 16)).toString() + '/' + protoString(<u8>(key >> 8));
}

export function compileService(cluster: Cluster, svc: Service): Compiled {
  const b = new Builder(cluster, svc);
  if (svc.flags & SVCF_HEADLESS || svc.type == SVC_TYPE_EXTERNAL_NAME) return b.c;
  const extLocal = (svc.flags & SVCF_EXTERNAL_LOCAL) != 0;
  const intLocal = (svc.flags & SVCF_INTERNAL_LOCAL) != 0;
  const nodePorts = svc.type == SVC_TYPE_NODE_PORT || svc.type == SVC_TYPE_LOAD_BALANCER;
  for (let i = 0; i < svc.ports.length; i++) {
    const p = svc.ports[i];
    for (let j = 0; j < svc.clusterIPs.length; j++) {
      b.front(svc.clusterIPs[j], i, p.port, SL_KIND_CLUSTER_IP, intLocal, 'spec.clusterIPs');
    }
    if (nodePorts && p.nodePort != 0) {
      const addrs = cluster.nodeAddrs;
      for (let j = 0; j < addrs.length; j++) {
        b.front(addrs[j], i, p.nodePort, SL_KIND_NODE_PORT, extLocal, 'spec.ports[' + i.toString() + '].nodePort');
      }
    }
    for (let j = 0; j < svc.externalIPs.length; j++) {
      b.front(svc.externalIPs[j], i, p.port, SL_KIND_EXTERNAL_IP, extLocal, 'spec.externalIPs');
    }
    if (svc.type == SVC_TYPE_LOAD_BALANCER) {
      for (let j = 0; j < svc.lbIPs.length; j++) {
        b.front(svc.lbIPs[j], i, p.port, SL_KIND_LOAD_BALANCER, extLocal, 'status.loadBalancer.ingress');
      }
    }
  }
  return b.c;
}
