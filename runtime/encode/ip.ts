// IP addresses and CIDRs between text and the record ABI's bytes. Parsing is
// strict (no leading zeros, no IPv4 shorthand): a value that does not parse is
// invalid input to report, never something to guess at.

export type Family = 4 | 6;

export interface Ip {
  family: Family;
  bytes: Uint8Array; // network order, 4 or 16 bytes
}

export function parseIp(text: string): Ip | undefined {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text);
  return v6 && { family: 6, bytes: v6 };
}

const DOT = 0x2e, ZERO = 0x30, NINE = 0x39;

/**
 * A dotted quad of four decimal octets, 0-255 without leading zeros; else
 * undefined. A scan rather than a regex, a split and an array per address:
 * a full sync parses some 40,000 of them, and that was a third of
 * normalizing.
 */
function parseIpv4(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(4);
  let octets = 0, value = 0, digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : DOT; // the end closes the last octet as a dot would
    if (c === DOT) {
      if (digits === 0 || octets === 4) return undefined;
      bytes[octets++] = value;
      value = 0;
      digits = 0;
    } else if (c >= ZERO && c <= NINE) {
      if (digits === 1 && value === 0) return undefined; // a leading zero
      value = value * 10 + (c - ZERO);
      if (++digits > 3 || value > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return octets === 4 ? bytes : undefined;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return undefined;
  let tail: number[] = [];
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (m) {
    const b = parseIpv4(m[2]);
    if (!b) return undefined;
    tail = [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
    text = m[1].endsWith('::') ? m[1] : m[1].slice(0, -1);
  }
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const [head, rest] = text.split('::');
  const hs = groups(head), rs = rest === undefined ? [] : groups(rest);
  if (![...hs, ...rs].every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const words = [...hs, ...rs].map((g) => parseInt(g, 16));
  const missing = 8 - words.length - tail.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...hs.map((g) => parseInt(g, 16)), ...Array(rest === undefined ? 0 : missing).fill(0),
    ...rs.map((g) => parseInt(g, 16)), ...tail];
  const out = new Uint8Array(16);
  all.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/** Canonical text: dotted quad, or RFC 5952 for IPv6. */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return Array.from(ip.bytes).join('.');
  const w = Array.from({ length: 8 }, (_, i) => (ip.bytes[2 * i] << 8) | ip.bytes[2 * i + 1]);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(w) : `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

export interface Cidr {
  ip: Ip;
  prefix: number;
}

/** A CIDR whose host bits are zero, as Kubernetes validation demands. */
export function parseCidr(text: string): Cidr | undefined {
  const c = parseIfaddr(text);
  return c && hostBitsZero(c.ip.bytes, c.prefix) ? c : undefined;
}

/** An address and a prefix length, host bits as written ("10.0.0.1/8": an interface address). */
export function parseIfaddr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const p = text.slice(slash + 1);
  if (!ip || !/^(0|[1-9]\d{0,2})$/.test(p)) return undefined;
  const prefix = Number(p);
  return prefix > ip.bytes.length * 8 ? undefined : { ip, prefix };
}

/** The network c lies in: its host bits cleared. */
export function networkOf(c: Cidr): Cidr {
  const bytes = c.ip.bytes.map((b, i) => b & (0xff00 >> Math.min(8, Math.max(0, c.prefix - 8 * i))));
  return { ip: { family: c.ip.family, bytes }, prefix: c.prefix };
}

function hostBitsZero(bytes: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.ip)}/${c.prefix}`;
}
