// IP and CIDR fields of Kubernetes objects. A value that is not an address
// rejects the object; a valid IPv6 value is noted and left out, because the
// datapath is IPv4 only today and a dual-stack object is still good input.
import { Invalid, requiredString, shown } from './fields.ts';
import { formatCidr, formatIp, networkOf, parseCidr, parseIfaddr, parseIp, type Cidr, type Ip } from './ip.ts';

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

/**
 * Where an address is a destination, what it may not be. 'frontend' (a
 * ClusterIP, a LoadBalancer IP): unspecified, loopback, broadcast or
 * multicast. 'endpoint' (an endpoint address, an externalIP: the API server's
 * ValidateEndpointIP): link-local too.
 */
export type Use = 'frontend' | 'endpoint';

/** ip, if a Service may use it so; else Invalid, with the API server's words. */
export function usable(ip: Ip, field: string, use: Use): Ip {
  const why = refused(ip, use);
  if (why !== undefined) throw new Invalid(field, `${JSON.stringify(formatIp(ip))} may not be ${why}`);
  return ip;
}

function refused(ip: Ip, use: Use): string | undefined {
  const b = ip.bytes;
  const v4 = ip.family === 4 ? b : b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff ? b.subarray(12) : undefined;
  if (v4) {
    // byte by byte, not every(): an endpoint's address is checked here at every full sync
    if ((v4[0] | v4[1] | v4[2] | v4[3]) === 0) return 'unspecified (0.0.0.0)';
    if (v4[0] === 127) return 'in the loopback range (127.0.0.0/8)';
    if ((v4[0] & v4[1] & v4[2] & v4[3]) === 255) return 'the broadcast address (255.255.255.255)';
    if (v4[0] >= 224 && v4[0] <= 239) return 'in the multicast range (224.0.0.0/4)';
    if (use === 'endpoint' && v4[0] === 169 && v4[1] === 254) return 'in the link-local range (169.254.0.0/16)';
    return undefined;
  }
  if (b.every((x) => x === 0)) return 'unspecified (::)';
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return 'the loopback address (::1)';
  if (b[0] === 0xff) return 'in the multicast range (ff00::/8)';
  if (use === 'endpoint' && b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return 'in the link-local range (fe80::/10)';
  return undefined;
}

/** An IPv4 address, or undefined (noted) for an IPv6 one; one a Service may not use so is Invalid. */
export function ipv4(v: unknown, field: string, note: Noter, use?: Use): Ip | undefined {
  const ip = anyIp(v, field);
  if (use !== undefined) usable(ip, field, use);
  if (ip.family === 4) return ip;
  note(field, ipv6Skipped(v as string));
  return undefined;
}

/** A CIDR of either family with zero host bits. */
export function anyCidr(v: unknown, field: string): Cidr {
  const text = requiredString(v, field);
  const c = parseCidr(text);
  if (c) return c;
  const ifaddr = parseIfaddr(text);
  if (ifaddr) throw new Invalid(field, `${shown(text)} has host bits set; the network is ${formatCidr(networkOf(ifaddr))}`);
  throw new Invalid(field, `${shown(text)} is not a CIDR`);
}

/**
 * A NetworkPolicy ipBlock CIDR. The API server still accepts host bits there
 * (net.ParseCIDR, which yields the network; KEP-4858 makes new ones invalid
 * only behind a gate and keeps old objects valid), and every implementation
 * reads such a block as its network: so does sluice, with a note.
 */
export function ipBlockCidr(v: unknown, field: string, note: Noter): Cidr {
  const text = requiredString(v, field);
  const c = parseCidr(text);
  if (c) return c;
  const ifaddr = parseIfaddr(text);
  if (!ifaddr) throw new Invalid(field, `${shown(text)} is not a CIDR`);
  const network = networkOf(ifaddr);
  note(field, `${shown(text)} has host bits set; read as the network ${formatCidr(network)}`);
  return network;
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
