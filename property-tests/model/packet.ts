// Ethernet + IPv4 + TCP/UDP/ICMP frames for datapath tests: a builder that
import { formatIp } from '../../runtime/encode/ip.ts';
import { ipv4Of, parseU32 } from '../../runtime/encode/ipv4.ts';
// writes valid checksums, and a parser that reads a frame back and says
// whether its checksums hold. Addresses are dotted strings, MACs
// colon-separated hex, numbers host order.

export const ETH_HLEN = 14;
export const PROTO = { ICMP: 1, TCP: 6, UDP: 17 } as const;
export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export interface Tcp { proto: 'tcp'; sport: number; dport: number; seq?: number; ack?: number; flags?: number; payload?: Uint8Array }
export interface Udp { proto: 'udp'; sport: number; dport: number; payload?: Uint8Array; noChecksum?: boolean }
export interface Icmp { proto: 'icmp'; type: number; code: number; rest?: number; payload?: Uint8Array }
/** Any other protocol (SCTP: 132), payload as given, no checksum computed. */
export interface Raw { proto: 'raw'; number: number; payload?: Uint8Array }
export type L4 = Tcp | Udp | Icmp | Raw;

export interface Ip {
  src: string;
  dst: string;
  ttl?: number;
  id?: number;
  options?: Uint8Array; // a multiple of 4 bytes, at most 40
  fragOff?: number; // the flags + fragment offset field, host order (0x2000: more fragments)
  l4: L4;
}

export interface Frame { srcMac?: string; dstMac?: string; ip: Ip }

/** A header's address field and its text, through runtime/encode's one pair. */
export const ipBytes = (ip: string): Uint8Array => ipv4Of(parseU32(ip)).bytes;
export const ipText = (b: Uint8Array) => formatIp({ family: 4, bytes: b.subarray(0, 4) });
const macBytes = (m: string) => Uint8Array.from(m.split(':').map((h) => parseInt(h, 16)));
const macText = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** The one's complement sum of bytes (odd length padded with a zero byte), not yet inverted. */
function sum16(bytes: Uint8Array, seed = 0): number {
  let s = seed;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The Internet checksum (RFC 1071) of bytes, with an optional seed sum. */
export const checksum = (bytes: Uint8Array, seed = 0) => ~sum16(bytes, seed) & 0xffff;

function pseudoSum(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  const ph = new Uint8Array(12);
  ph.set(src, 0);
  ph.set(dst, 4);
  ph[9] = proto;
  ph[10] = len >> 8;
  ph[11] = len & 255;
  return sum16(ph);
}

function l4Bytes(ip: Ip, src: Uint8Array, dst: Uint8Array): Uint8Array {
  const l4 = ip.l4;
  const payload = l4.payload ?? new Uint8Array(0);
  if (l4.proto === 'raw') return payload.slice();
  if (l4.proto === 'tcp') {
    const b = new Uint8Array(20 + payload.length);
    const v = new DataView(b.buffer);
    v.setUint16(0, l4.sport);
    v.setUint16(2, l4.dport);
    v.setUint32(4, l4.seq ?? 1000);
    v.setUint32(8, l4.ack ?? 0);
    b[12] = 5 << 4;
    b[13] = l4.flags ?? TCP_FLAGS.SYN;
    v.setUint16(14, 65535);
    b.set(payload, 20);
    v.setUint16(16, checksum(b, pseudoSum(src, dst, PROTO.TCP, b.length)));
    return b;
  }
  if (l4.proto === 'udp') {
    const b = new Uint8Array(8 + payload.length);
    const v = new DataView(b.buffer);
    v.setUint16(0, l4.sport);
    v.setUint16(2, l4.dport);
    v.setUint16(4, b.length);
    b.set(payload, 8);
    if (!l4.noChecksum) v.setUint16(6, checksum(b, pseudoSum(src, dst, PROTO.UDP, b.length)) || 0xffff);
    return b;
  }
  const b = new Uint8Array(8 + payload.length);
  const v = new DataView(b.buffer);
  b[0] = l4.type;
  b[1] = l4.code;
  v.setUint32(4, l4.rest ?? 0);
  b.set(payload, 8);
  v.setUint16(2, checksum(b));
  return b;
}

/** An IPv4 packet (no Ethernet header) with valid checksums. */
export function buildIp(ip: Ip): Uint8Array {
  const src = ipBytes(ip.src), dst = ipBytes(ip.dst);
  const options = ip.options ?? new Uint8Array(0);
  const hlen = 20 + options.length;
  const l4 = l4Bytes(ip, src, dst);
  const b = new Uint8Array(hlen + l4.length);
  const v = new DataView(b.buffer);
  b[0] = 0x40 | (hlen / 4);
  v.setUint16(2, b.length);
  v.setUint16(4, ip.id ?? 1);
  v.setUint16(6, ip.fragOff ?? 0);
  b[8] = ip.ttl ?? 64;
  b[9] = ip.l4.proto === 'raw' ? ip.l4.number : PROTO[ip.l4.proto.toUpperCase() as keyof typeof PROTO];
  b.set(src, 12);
  b.set(dst, 16);
  b.set(options, 20);
  v.setUint16(10, checksum(b.subarray(0, hlen)));
  b.set(l4, hlen);
  return b;
}

/** An Ethernet frame carrying ip. */
export function buildFrame(f: Frame): Uint8Array {
  const ip = buildIp(f.ip);
  const b = new Uint8Array(ETH_HLEN + ip.length);
  b.set(macBytes(f.dstMac ?? '02:00:00:00:00:02'), 0);
  b.set(macBytes(f.srcMac ?? '02:00:00:00:00:01'), 6);
  b[12] = 0x08; // ETH_P_IP
  b.set(ip, ETH_HLEN);
  return b;
}

/** What an ICMP error quotes of a packet: its IP header and 8 bytes more. */
export function quoteOf(ipPacket: Uint8Array): Uint8Array {
  return ipPacket.slice(0, (ipPacket[0] & 15) * 4 + 8);
}

export interface ParsedL4 {
  proto: number;
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  checksum: number; // the field as found
  checksumOk: boolean; // UDP checksum 0 (none) counts as ok
  type?: number; // ICMP
  code?: number;
  rest?: number;
  payload: Uint8Array; // after the L4 header
}

export interface ParsedIp {
  src: string;
  dst: string;
  ihl: number; // bytes
  totLen: number;
  ttl: number;
  proto: number;
  checksumOk: boolean;
  header: Uint8Array; // the IP header as found
}

export interface Parsed {
  dstMac: string;
  srcMac: string;
  ip: ParsedIp;
  l4: ParsedL4;
  /** ICMP errors: the quoted packet's header and ports. */
  inner?: { ip: ParsedIp; sport: number; dport: number };
}

function parseIpHeader(b: Uint8Array): ParsedIp {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ihl = (b[0] & 15) * 4;
  return {
    src: ipText(b.subarray(12, 16)), dst: ipText(b.subarray(16, 20)), ihl, totLen: v.getUint16(2), ttl: b[8], proto: b[9],
    checksumOk: checksum(b.subarray(0, ihl)) === 0, header: b.slice(0, ihl),
  };
}

/** Reads a frame built like buildFrame builds them (or rewritten by the datapath). */
export function parseFrame(frame: Uint8Array): Parsed {
  if (frame.length < ETH_HLEN + 20) throw new Error(`frame of ${frame.length} bytes is too short`);
  const ipb = frame.subarray(ETH_HLEN);
  const ip = parseIpHeader(ipb);
  const l4b = ipb.subarray(ip.ihl, ip.totLen);
  const v = new DataView(l4b.buffer, l4b.byteOffset, l4b.byteLength);
  const src = ipBytes(ip.src), dst = ipBytes(ip.dst);
  let l4: ParsedL4;
  if (ip.proto === PROTO.TCP) {
    const doff = (l4b[12] >> 4) * 4;
    l4 = {
      proto: ip.proto, sport: v.getUint16(0), dport: v.getUint16(2), seq: v.getUint32(4), ack: v.getUint32(8), flags: l4b[13],
      checksum: v.getUint16(16), checksumOk: checksum(l4b, pseudoSum(src, dst, PROTO.TCP, l4b.length)) === 0, payload: l4b.slice(doff),
    };
  } else if (ip.proto === PROTO.UDP) {
    const sum = v.getUint16(6);
    l4 = {
      proto: ip.proto, sport: v.getUint16(0), dport: v.getUint16(2), checksum: sum,
      checksumOk: sum === 0 || checksum(l4b, pseudoSum(src, dst, PROTO.UDP, l4b.length)) === 0, payload: l4b.slice(8),
    };
  } else if (ip.proto !== PROTO.ICMP) {
    l4 = { proto: ip.proto, checksum: 0, checksumOk: true, payload: l4b.slice() };
  } else {
    l4 = {
      proto: ip.proto, type: l4b[0], code: l4b[1], rest: v.getUint32(4), checksum: v.getUint16(2),
      checksumOk: checksum(l4b) === 0, payload: l4b.slice(8),
    };
  }
  const out: Parsed = { dstMac: macText(frame.subarray(0, 6)), srcMac: macText(frame.subarray(6, 12)), ip, l4 };
  if (ip.proto === PROTO.ICMP && (l4.type === 3 || l4.type === 11) && l4.payload.length >= 28) {
    const inner = parseIpHeader(l4.payload);
    const pv = new DataView(l4.payload.buffer, l4.payload.byteOffset + inner.ihl, 4);
    out.inner = { ip: inner, sport: pv.getUint16(0), dport: pv.getUint16(2) };
  }
  return out;
}
