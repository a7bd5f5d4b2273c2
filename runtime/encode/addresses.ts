// IP and CIDR fields of Kubernetes objects. A value that is not an address
// rejects the object; a valid IPv6 value is noted and left out, because the
// datapath is IPv4 only today and a dual-stack object is still good input.
import { Invalid, requiredString, shown } from './fields.ts';
import { formatCidr, parseCidr, parseIp, type Cidr, type Ip } from './ip.ts';

export type Noter = (field: string, note: string) => void;

/** The note for a valid IPv6 value left out of a record. */
export const ipv6Skipped = (text: string) => `IPv6 is not supported yet; ${text} skipped`;

/** An address of either family. */
export function anyIp(v: unknown, field: string): Ip {
  const text = requiredString(v, field);
  const ip = parseIp(text);
  if (!ip) throw new Invalid(field, `${shown(text)} is not an IP address`);
  return ip;
}

/** An IPv4 address, or undefined (noted) for an IPv6 one. */
export function ipv4(v: unknown, field: string, note: Noter): Ip | undefined {
  const ip = anyIp(v, field);
  if (ip.family === 4) return ip;
  note(field, ipv6Skipped(v as string));
  return undefined;
}

/** A CIDR of either family with zero host bits. */
export function anyCidr(v: unknown, field: string): Cidr {
  const text = requiredString(v, field);
  const c = parseCidr(text);
  if (c) return c;
  const [addr, prefix] = text.split('/');
  const ip = parseIp(addr);
  const bits = prefix !== undefined && /^\d+$/.test(prefix) ? Number(prefix) : -1;
  if (ip && bits >= 0 && bits <= ip.bytes.length * 8) {
    throw new Invalid(field, `${shown(text)} has host bits set; the network is ${networkText(ip, bits)}`);
  }
  throw new Invalid(field, `${shown(text)} is not a CIDR`);
}

/** An IPv4 CIDR, or undefined (noted) for an IPv6 one. */
export function cidrv4(v: unknown, field: string, note: Noter): Cidr | undefined {
  const c = anyCidr(v, field);
  if (c.ip.family === 4) return c;
  note(field, ipv6Skipped(v as string));
  return undefined;
}

/** Whether inner is a strictly smaller network inside outer. */
export function strictlyInside(inner: Cidr, outer: Cidr): boolean {
  if (inner.ip.family !== outer.ip.family || inner.prefix <= outer.prefix) return false;
  for (let bit = 0; bit < outer.prefix; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((inner.ip.bytes[bit >> 3] & m) !== (outer.ip.bytes[bit >> 3] & m)) return false;
  }
  return true;
}

function networkText(ip: Ip, prefix: number): string {
  const bytes = ip.bytes.map((b, i) => b & (0xff00 >> Math.min(8, Math.max(0, prefix - 8 * i))));
  return formatCidr({ ip: { family: ip.family, bytes }, prefix });
}
