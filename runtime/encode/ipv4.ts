// IPv4 addresses as unsigned 32-bit numbers, for arithmetic: subnets, ranges,
// generated addresses. The one pair between numbers and text, on top of
// ip.ts's strict parser and canonical format.
import { formatIp, parseIp, type Ip } from './ip.ts';

export const u32Of = (ip: Ip) => ((ip.bytes[0] << 24) | (ip.bytes[1] << 16) | (ip.bytes[2] << 8) | ip.bytes[3]) >>> 0;

export const ipv4Of = (n: number): Ip => ({ family: 4, bytes: Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255) });

/** A dotted quad's number; throws naming the text when it is not one. */
export function parseU32(text: string): number {
  const ip = parseIp(text);
  if (!ip || ip.family !== 4) throw new Error(`${text} is not an IPv4 address`);
  return u32Of(ip);
}

export const textOf = (n: number) => formatIp(ipv4Of(n));

export const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export const inSubnet = (n: number, net: number, prefix: number) => ((n & maskOf(prefix)) >>> 0) === ((net & maskOf(prefix)) >>> 0);

/** The longest prefix, at most max, whose network holds every address. */
export function commonPrefix(addrs: readonly number[], max: number): number {
  let p = max;
  while (p > 0 && !addrs.every((a) => ((a ^ addrs[0]) & maskOf(p)) === 0)) p--;
  return p;
}
