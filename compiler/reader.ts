// Reads the record ABI of abi/records.ts out of linear memory. The runtime's
// encoder is the only writer, so a malformed record is a bug there: it traps
// with the offset rather than compiling something half-read.
import { FAMILY_IPV4, FAMILY_IPV6 } from './abi/records';
import { Strings } from './strings';

export const NOT_IPV4: i64 = -1;

let joined = new ArrayBuffer(512);

export class Reader {
  at: usize = 0;
  end: usize = 0;

  /** Starts reading [at, end): one Reader serves every record of a batch. */
  reset(at: usize, end: usize): Reader {
    this.at = at;
    this.end = end;
    return this;
  }

  private need(n: usize): usize {
    const p = this.at;
    if (p + n > this.end) throw new Error('record truncated');
    this.at = p + n;
    return p;
  }

  u8(): u8 { return load<u8>(this.need(1)); }
  u16(): u16 { return load<u16>(this.need(2)); }
  u32(): u32 { return load<u32>(this.need(4)); }

  str(): string {
    const n = <usize>this.u16();
    return String.UTF8.decodeUnsafe(this.need(n), n);
  }

  skipStr(): void { this.need(<usize>this.u16()); }

  /** Reads a string, the copy strings holds when it holds one. */
  strIn(strings: Strings): string {
    const n = <usize>this.u16();
    return strings.at(this.need(n), n);
  }

  /** Reads past a string; returns where it starts, for joinStrs. */
  strAt(): usize {
    const p = this.at;
    this.skipStr();
    return p;
  }

  /** Reads a string and says whether it equals these UTF-8 bytes, without decoding it. */
  strEq(bytes: ArrayBuffer): bool {
    const n = <usize>this.u16();
    const p = this.need(n);
    return n == <usize>bytes.byteLength && memory.compare(p, changetype<usize>(bytes), n) == 0;
  }

  /** An IPv4 address as maps store it: network-order bytes loaded as a
   * little-endian u32 (store<u32> writes the same bytes back). An IPv6
   * address is read past and gives NOT_IPV4: the compiler is IPv4-only yet. */
  ip(): i64 {
    const family = this.u8();
    if (family == FAMILY_IPV4) return <i64>load<u32>(this.need(4));
    if (family == FAMILY_IPV6) { this.need(16); return NOT_IPV4; }
    throw new Error('bad address family');
  }

  count(): i32 { return <i32>this.u16(); }
}

/** "a/b" from two strings already read past (strAt gave where they start),
 * decoded as one: a key costs one allocation, not the three of a + '/' + b.
 * Joining the bytes first gives the same string: the encoder writes whole
 * UTF-8 characters. */
export function joinStrs(a: usize, b: usize): string {
  const na = <usize>load<u16>(a), nb = <usize>load<u16>(b);
  const n = na + 1 + nb;
  if (n > <usize>joined.byteLength) joined = new ArrayBuffer(<i32>n);
  const p = changetype<usize>(joined);
  memory.copy(p, a + 2, na);
  store<u8>(p + na, 0x2f); // '/'
  memory.copy(p + na + 1, b + 2, nb);
  return String.UTF8.decodeUnsafe(p, n);
}
