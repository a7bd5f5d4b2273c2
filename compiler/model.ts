// The part of each record the service compiler uses, decoded from the record
// ABI (abi/records.ts). Parts it does not use yet are read past, not kept.
import { NOT_IPV4, Reader } from './reader';

export class ServicePort {
  constructor(public name: string, public proto: u8, public port: u16, public nodePort: u16) {}
}

export class Cidr {
  constructor(public ip: u32, public prefix: u8) {}
}

export class Service {
  key: string = ''; // "namespace/name"
  type: u8 = 0;
  flags: u8 = 0;
  affinity: u32 = 0;
  clusterIPs: u32[] = [];
  externalIPs: u32[] = [];
  lbIPs: u32[] = [];
  sourceRanges: Cidr[] = [];
  ports: ServicePort[] = [];
}

function ips(r: Reader): u32[] {
  const out: u32[] = [];
  for (let n = r.count(); n > 0; n--) {
    const ip = r.ip();
    if (ip != NOT_IPV4) out.push(<u32>ip);
  }
  return out;
}

export function readService(r: Reader, key: string): Service {
  const s = new Service();
  s.key = key;
  s.type = r.u8();
  s.flags = r.u8();
  r.u16(); // healthCheckNodePort: served by the agent, not compiled
  s.affinity = r.u32();
  s.clusterIPs = ips(r);
  s.externalIPs = ips(r);
  s.lbIPs = ips(r);
  for (let n = r.count(); n > 0; n--) {
    const ip = r.ip();
    const prefix = r.u8();
    if (ip != NOT_IPV4) s.sourceRanges.push(new Cidr(<u32>ip, prefix));
  }
  for (let n = r.count(); n > 0; n--) {
    const name = r.str();
    const proto = r.u8();
    const port = r.u16();
    const nodePort = r.u16();
    r.u16(); // targetPort: EndpointSlices carry the resolved port
    r.skipStr();
    s.ports.push(new ServicePort(name, proto, port, nodePort));
  }
  return s;
}

export class SlicePort {
  constructor(public name: string, public proto: u8, public port: u16) {}
}

export class Endpoint {
  constructor(public ip: u32, public conds: u8, public local: bool) {}
}

export class Slice {
  key: string = '';
  service: string = ''; // "namespace/serviceName"
  addressType: u8 = 0;
  ports: SlicePort[] = [];
  endpoints: Endpoint[] = [];
}

/** Reads an EndpointSlice; node is this node's name, which makes an endpoint local. */
export function readSlice(r: Reader, ns: string, key: string, node: ArrayBuffer): Slice {
  const s = new Slice();
  s.key = key;
  s.service = ns + '/' + r.str();
  s.addressType = r.u8();
  for (let n = r.count(); n > 0; n--) {
    const name = r.str();
    const proto = r.u8();
    s.ports.push(new SlicePort(name, proto, r.u16()));
  }
  for (let n = r.count(); n > 0; n--) {
    const ip = r.ip();
    const conds = r.u8();
    const local = r.strIs(node);
    r.skipStr(); // zone
    for (let z = r.count(); z > 0; z--) r.skipStr(); // hinted zones
    if (ip != NOT_IPV4) s.endpoints.push(new Endpoint(<u32>ip, conds, local));
  }
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
