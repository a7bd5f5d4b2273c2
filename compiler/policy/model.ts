// The objects NetworkPolicy compiles from, decoded from the record ABI
// (abi/records.ts): pods, namespaces and policies, as the policy compiler
// keeps them between batches.
import {
  PEER_IPBLOCK, PEER_NAMESPACES, PEER_PODS, PODF_HOST_NETWORK, PODF_TERMINAL, POLICY_EGRESS, POLICY_INGRESS,
  SEL_DOES_NOT_EXIST, SEL_EXISTS, SEL_IN, SEL_NOT_IN,
} from '../abi/records';
import { ips, NO_IPS } from '../model';
import { NOT_IPV4, Reader } from '../reader';
import { Strings } from '../strings';

/** Labels sorted by key, as the records carry them: each key, then its
 * value, in one array sized once (an Array holds room for 8 at least: issue
 * 12's sync took 3 MiB more that way; keys and values apart, one block more). */
export class Labels {
  private kv: StaticArray<string>;

  constructor(n: i32) { this.kv = new StaticArray<string>(2 * n); }

  get size(): i32 { return this.kv.length >>> 1; }
  key(i: i32): string { return unchecked(this.kv[2 * i]); }
  value(i: i32): string { return unchecked(this.kv[2 * i + 1]); }

  set(i: i32, key: string, value: string): void {
    unchecked(this.kv[2 * i] = key);
    unchecked(this.kv[2 * i + 1] = value);
  }

  get(key: string): string | null {
    for (let i = 0; i < this.kv.length; i += 2) if (unchecked(this.kv[i]) == key) return unchecked(this.kv[i + 1]);
    return null;
  }

  has(key: string): bool { return this.get(key) != null; }

  same(o: Labels): bool {
    if (this.kv.length != o.kv.length) return false;
    for (let i = 0; i < this.kv.length; i++) if (unchecked(this.kv[i]) != unchecked(o.kv[i])) return false;
    return true;
  }
}

export const NO_LABELS = new Labels(0);

/** The labels at r; their strings from strings, when given (a Pod's and a Namespace's). */
export function readLabels(r: Reader, strings: Strings | null = null): Labels {
  const n = r.count();
  if (n == 0) return NO_LABELS;
  const l = new Labels(n);
  for (let i = 0; i < n; i++) {
    const key = strings ? r.strIn(strings) : r.str();
    l.set(i, key, strings ? r.strIn(strings) : r.str());
  }
  return l;
}

export class Expr {
  constructor(public key: string, public op: u8, public values: string[]) {}
}

/** A metav1.LabelSelector: every label and expression must hold; empty selects all. */
export class Selector {
  labels: Labels = NO_LABELS;
  exprs: Expr[] = [];

  get empty(): bool { return this.labels.size == 0 && this.exprs.length == 0; }

  matches(l: Labels): bool {
    for (let i = 0; i < this.labels.size; i++) {
      const v = l.get(this.labels.key(i));
      if (v == null || v != this.labels.value(i)) return false;
    }
    for (let i = 0; i < this.exprs.length; i++) {
      const e = unchecked(this.exprs[i]);
      const v = l.get(e.key);
      if (e.op == SEL_IN && (v == null || !e.values.includes(v))) return false;
      if (e.op == SEL_NOT_IN && v != null && e.values.includes(v)) return false;
      if (e.op == SEL_EXISTS && v == null) return false;
      if (e.op == SEL_DOES_NOT_EXIST && v != null) return false;
    }
    return true;
  }

  /** The label keys it reads. */
  keys(out: string[]): void {
    for (let i = 0; i < this.labels.size; i++) out.push(this.labels.key(i));
    for (let i = 0; i < this.exprs.length; i++) out.push(unchecked(this.exprs[i]).key);
  }
}

export function readSelector(r: Reader): Selector {
  const s = new Selector();
  s.labels = readLabels(r);
  for (let n = r.count(); n > 0; n--) {
    const key = r.str();
    const op = r.u8();
    const values: string[] = [];
    for (let k = r.count(); k > 0; k--) values.push(r.str());
    s.exprs.push(new Expr(key, op, values));
  }
  return s;
}

export class Cidr4 {
  constructor(public addr: u32, public len: u8) {} // addr: host order, host bits zero

  contains(ip: u32): bool { return this.len == 0 || (ip >>> (32 - <u32>this.len)) == (this.addr >>> (32 - <u32>this.len)); } // len 32: shift 0
  within(o: Cidr4): bool { return this.len >= o.len && o.contains(this.addr); }
}

function readCidr(r: Reader): Cidr4 | null {
  const ip = r.ip();
  const len = r.u8();
  if (ip == NOT_IPV4) return null;
  const a = bswap<u32>(<u32>ip);
  return new Cidr4(len == 0 ? 0 : len >= 32 ? a : a & ~((<u32>0xffffffff) >>> len), len); // shifts are mod 32
}

/** One from/to entry: pods (selector or null), namespaces (or null), or a block. */
export class Peer {
  pods: Selector | null = null;
  namespaces: Selector | null = null;
  block: Cidr4 | null = null;
  except: Cidr4[] = [];
}

export class PortSpec {
  constructor(public proto: u8, public port: u16, public endPort: u16, public name: string) {}
}

export class Rule {
  peers: Peer[] = [];
  ports: PortSpec[] = [];
  name: string = ''; // "ns/name ingress[2]"
}

export class Policy {
  key: string = '';
  ns: string = '';
  selector: Selector = new Selector();
  types: u8 = 0;
  rules: StaticArray<Rule[]> = [[], []]; // by direction: 0 ingress, 1 egress

  hasType(dir: i32): bool { return (this.types & (dir == 0 ? <u8>POLICY_INGRESS : <u8>POLICY_EGRESS)) != 0; }
}

function readRule(r: Reader, name: string): Rule {
  const rule = new Rule();
  rule.name = name;
  for (let n = r.count(); n > 0; n--) {
    const flags = r.u8();
    const p = new Peer();
    let v6 = false;
    if (flags & PEER_PODS) p.pods = readSelector(r);
    if (flags & PEER_NAMESPACES) p.namespaces = readSelector(r);
    if (flags & PEER_IPBLOCK) {
      p.block = readCidr(r);
      v6 = p.block == null;
      for (let k = r.count(); k > 0; k--) {
        const e = readCidr(r);
        if (e) p.except.push(e);
      }
    }
    if (!v6) rule.peers.push(p); // the encoder drops IPv6 blocks; a stray one matches no IPv4 flow
  }
  for (let n = r.count(); n > 0; n--) {
    const proto = r.u8();
    const port = r.u16();
    const endPort = r.u16();
    rule.ports.push(new PortSpec(proto, port, endPort, r.str()));
  }
  return rule;
}

export function readPolicy(r: Reader, ns: string, key: string): Policy {
  const p = new Policy();
  p.key = key;
  p.ns = ns;
  p.selector = readSelector(r);
  p.types = r.u8();
  for (let dir = 0; dir < 2; dir++) {
    const word = dir == 0 ? ' ingress[' : ' egress[';
    for (let i = 0, n = r.count(); i < n; i++) unchecked(p.rules[dir]).push(readRule(r, key + word + i.toString() + ']'));
  }
  return p;
}

export class NamedPort {
  constructor(public name: string, public proto: u8, public port: u16) {}
}

/** No named ports: shared by the pods and identities without any (most identities), never written. */
export const NO_PORTS = new StaticArray<NamedPort>(0);

export class Pod {
  key: string = '';
  ns: string = '';
  node: string = '';
  flags: u8 = 0;
  // Sized to their contents: an Array holds room for 8 at least, and a pod's
  // arrays were about a sixth of what the compiler kept of it.
  ips: StaticArray<u32> = NO_IPS; // host order
  labels: Labels = NO_LABELS;
  ports: StaticArray<NamedPort> = NO_PORTS;

  /** On the pod network: not hostNetwork, not finished, with an address. */
  get networked(): bool { return (this.flags & (PODF_HOST_NETWORK | PODF_TERMINAL)) == 0 && this.ips.length > 0; }

  /** The port a name resolves to for a protocol, or -1. */
  resolve(name: string, proto: u8): i32 {
    for (let i = 0; i < this.ports.length; i++) {
      const p = unchecked(this.ports[i]);
      if (p.name == name && p.proto == proto) return <i32>p.port;
    }
    return -1;
  }
}

export function readPod(r: Reader, ns: string, key: string, strings: Strings): Pod {
  const p = new Pod();
  p.key = key;
  p.ns = ns;
  p.node = r.strIn(strings);
  p.flags = r.u8();
  p.ips = readIps(r);
  p.labels = readLabels(r, strings);
  const n = r.count();
  if (n == 0) return p;
  const ports = new StaticArray<NamedPort>(n);
  let named = 0;
  for (let i = 0; i < n; i++) {
    const name = r.strIn(strings);
    const proto = r.u8();
    const port = r.u16();
    if (name.length > 0) unchecked(ports[named++] = new NamedPort(name, proto, port));
  }
  if (named > 0) p.ports = named == n ? ports : ports.slice<StaticArray<NamedPort>>(0, named);
  return p;
}

/** A pod's IPv4 addresses, host order. One listed twice (the API server
 * refuses that) is owned twice and compiles as if listed once
 * (property-tests/compiler/podAddresses.test.ts). */
function readIps(r: Reader): StaticArray<u32> {
  const a = ips(r);
  for (let i = 0; i < a.length; i++) unchecked(a[i] = bswap<u32>(unchecked(a[i])));
  return a;
}
