// The part of each record the service compiler uses, decoded from the record
// ABI (abi/records.ts). Parts it does not use yet are read past, not kept.
// Lists are StaticArrays of their exact length, and empty ones are shared:
// a full sync decodes tens of thousands of objects, and every allocation
// (and every object the collector then visits) shows in its time.
import { joinStrs, NOT_IPV4, Reader } from './reader';

export class ServicePort {
  constructor(public name: string, public proto: u8, public port: u16, public nodePort: u16) {}
}

export class Cidr {
  constructor(public ip: u32, public prefix: u8) {}
}

// Never written: a StaticArray of length 0 has nothing to write.
export const NO_IPS = new StaticArray<u32>(0);
export const NO_CIDRS = new StaticArray<Cidr>(0);
const NO_ENDPOINTS = new StaticArray<u64>(0);
const NO_SERVICE_PORTS = new StaticArray<ServicePort>(0);
const NO_SLICE_PORTS = new StaticArray<SlicePort>(0);

/** The first k elements of a: a itself when that is all of it. */
function fit<T>(a: StaticArray<T>, k: i32): StaticArray<T> {
  return k == a.length ? a : StaticArray.slice<T>(a, 0, k);
}

export class Service {
  key: string = ''; // "namespace/name"
  type: u8 = 0;
  flags: u8 = 0;
  affinity: u32 = 0;
  created: u32 = 0; // creationTimestamp, s: the older Service keeps a contested frontend
  clusterIPs: StaticArray<u32> = NO_IPS;
  externalIPs: StaticArray<u32> = NO_IPS;
  lbIPs: StaticArray<u32> = NO_IPS;
  sourceRanges: StaticArray<Cidr> = NO_CIDRS;
  ports: StaticArray<ServicePort> = NO_SERVICE_PORTS;
}

/** The IPv4 addresses of a list, network order; the other families left out. */
export function ips(r: Reader): StaticArray<u32> {
  const n = r.count();
  if (n == 0) return NO_IPS;
  const out = new StaticArray<u32>(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const ip = r.ip();
    if (ip != NOT_IPV4) unchecked(out[k++] = <u32>ip);
  }
  return fit(out, k);
}

function cidrs(r: Reader): StaticArray<Cidr> {
  const n = r.count();
  if (n == 0) return NO_CIDRS;
  const out = new StaticArray<Cidr>(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const ip = r.ip();
    const prefix = r.u8();
    if (ip != NOT_IPV4) unchecked(out[k++] = new Cidr(<u32>ip, prefix));
  }
  return fit(out, k);
}

export function readService(r: Reader, key: string): Service {
  const s = new Service();
  s.key = key;
  s.type = r.u8();
  s.flags = r.u8();
  r.u16(); // healthCheckNodePort: served by the agent, not compiled
  s.affinity = r.u32();
  s.created = r.u32();
  s.clusterIPs = ips(r);
  s.externalIPs = ips(r);
  s.lbIPs = ips(r);
  s.sourceRanges = cidrs(r);
  const ports = new StaticArray<ServicePort>(r.count());
  for (let i = 0; i < ports.length; i++) {
    const name = r.str();
    const proto = r.u8();
    const port = r.u16();
    const nodePort = r.u16();
    r.u16(); // targetPort: EndpointSlices carry the resolved port
    r.skipStr();
    unchecked(ports[i] = new ServicePort(name, proto, port, nodePort));
  }
  s.ports = ports;
  return s;
}

export class SlicePort {
  constructor(public name: string, public proto: u8, public port: u16) {}
}

/** An endpoint packed in a number, one allocation for a slice's endpoints:
 * address · 16 zero bits · COND_* · local. */
@inline function endpoint(ip: u32, conds: u8, local: bool): u64 {
  return ((<u64>ip) << 32) | ((<u64>conds) << 8) | <u64>local;
}
@inline export function endpointIp(e: u64): u32 { return <u32>(e >> 32); }
@inline export function endpointConds(e: u64): u8 { return <u8>(e >> 8); }
@inline export function endpointLocal(e: u64): bool { return (e & 1) != 0; }

// Up to this many ports, a scan finds one faster than a map is built.
const PORT_SCAN_MAX: i32 = 16;

export class Slice {
  key: string = '';
  service: string = ''; // "namespace/serviceName"
  addressType: u8 = 0;
  ports: StaticArray<SlicePort> = NO_SLICE_PORTS;
  endpoints: StaticArray<u64> = NO_ENDPOINTS; // packed by endpoint()
  // "proto name" -> port, built on first use when a scan per lookup would be
  // quadratic in the ports (every Service port looks its own up).
  private byName: Map<string, u16> | null = null;

  /** The port of the slice port with this name and protocol (the last one
   * listed, if several are); 0 for none. */
  portOf(name: string, proto: u8): u16 {
    const ps = this.ports;
    if (ps.length <= PORT_SCAN_MAX) {
      let port: u16 = 0;
      for (let j = 0; j < ps.length; j++) {
        const p = unchecked(ps[j]);
        if (p.name == name && p.proto == proto) port = p.port;
      }
      return port;
    }
    let m = this.byName;
    if (m == null) {
      m = new Map<string, u16>();
      for (let j = 0; j < ps.length; j++) m.set(portKey(unchecked(ps[j]).name, unchecked(ps[j]).proto), unchecked(ps[j]).port);
      this.byName = m;
    }
    const k = portKey(name, proto);
    return m.has(k) ? m.get(k) : 0;
  }
}

@inline function portKey(name: string, proto: u8): string {
  return proto.toString() + ' ' + name;
}

/** Reads an EndpointSlice whose namespace starts at nsAt; node is this node's
 * name, which makes an endpoint local (no node: none is). */
export function readSlice(r: Reader, nsAt: usize, key: string, node: ArrayBuffer): Slice {
  const s = new Slice();
  s.key = key;
  s.service = joinStrs(nsAt, r.strAt());
  s.addressType = r.u8();
  const ports = new StaticArray<SlicePort>(r.count());
  for (let i = 0; i < ports.length; i++) {
    const name = r.str();
    const proto = r.u8();
    unchecked(ports[i] = new SlicePort(name, proto, r.u16()));
  }
  s.ports = ports;
  const n = r.count();
  if (n == 0) return s;
  const eps = new StaticArray<u64>(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const ip = r.ip();
    const conds = r.u8();
    const local = r.strEq(node) && node.byteLength > 0;
    r.skipStr(); // zone
    for (let z = r.count(); z > 0; z--) r.skipStr(); // hinted zones
    if (ip != NOT_IPV4) unchecked(eps[k++] = endpoint(<u32>ip, conds, local));
  }
  s.endpoints = fit(eps, k);
  return s;
}

/** The addresses NodePorts listen on: IPv4 InternalIP and ExternalIP, sorted, unique. */
export function readNodeAddresses(r: Reader): u32[] {
  const out: u32[] = [];
  for (let n = r.count(); n > 0; n--) {
    r.u8(); // address type: both kinds serve NodePorts
    const ip = r.ip();
    if (ip != NOT_IPV4 && !out.includes(<u32>ip)) out.push(<u32>ip);
  }
  out.sort((a: u32, b: u32): i32 => i32(bswap<u32>(a) > bswap<u32>(b)) - i32(bswap<u32>(a) < bswap<u32>(b)));
  return out;
}
