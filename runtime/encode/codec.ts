// Little combinators that write and read the record ABI (compiler/abi/records.ts).
// One description of each layout serves both directions, so the encoder and
// the decoder used by replay and tests cannot drift apart.
import type { Cidr, Ip } from './ip.ts';

const utf8 = new TextEncoder();

/** A list's count and a string's UTF-8 length are u16: the most a record holds of either. */
export const RECORD_MAX = 0xffff;

export class Writer {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;

  /** The array the bytes written so far are in, at [0, length): a later write may copy them to a new one. */
  get written(): Uint8Array { return this.buf; }

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  // reserve() first: it may replace buf and view, which the call would otherwise read before it.
  u8(v: number): void { const at = this.reserve(1); this.view.setUint8(at, v); }
  u16(v: number): void { const at = this.reserve(2); this.view.setUint16(at, v, true); }
  u32(v: number): void { const at = this.reserve(4); this.view.setUint32(at, v, true); }
  bytes(b: Uint8Array): void { const at = this.reserve(b.length); this.buf.set(b, at); }
  patchU32(at: number, v: number): void { this.view.setUint32(at, v, true); }

  /**
   * u16 byte length, then the UTF-8 bytes, written in place: a full sync
   * writes some 100,000 short strings, and TextEncoder.encode's array per
   * string cost more than the rest of the encoding. ASCII (names, labels,
   * nearly every string here) is copied char by char; anything else goes
   * through encodeInto.
   */
  utf8(v: string): void {
    const at = this.reserve(2 + 3 * v.length); // UTF-8 takes at most 3 bytes per UTF-16 unit
    let n = 0;
    for (; n < v.length; n++) {
      const c = v.charCodeAt(n);
      if (c >= 0x80) break;
      this.buf[at + 2 + n] = c;
    }
    if (n < v.length) n = utf8.encodeInto(v, this.buf.subarray(at + 2, at + 2 + 3 * v.length)).written;
    if (n > RECORD_MAX) throw new RangeError(`string of ${n} bytes exceeds the record ABI's ${RECORD_MAX}`);
    this.view.setUint16(at, n, true);
    this.length = at + 2 + n;
  }
  finish(): Uint8Array { return this.buf.slice(0, this.length); }
}

export class Reader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  offset: number;

  constructor(buf: Uint8Array, offset = 0) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.offset = offset;
  }

  private take(n: number): number {
    if (this.offset + n > this.buf.length) throw new RangeError(`record truncated at byte ${this.offset}`);
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(): number { return this.view.getUint8(this.take(1)); }
  u16(): number { return this.view.getUint16(this.take(2), true); }
  u32(): number { return this.view.getUint32(this.take(4), true); }
  bytes(n: number): Uint8Array { const at = this.take(n); return this.buf.slice(at, at + n); }
}

export interface Codec<T> {
  write(w: Writer, v: T): void;
  read(r: Reader): T;
}

export const u8: Codec<number> = { write: (w, v) => w.u8(v), read: (r) => r.u8() };
export const u16: Codec<number> = { write: (w, v) => w.u16(v), read: (r) => r.u16() };
export const u32: Codec<number> = { write: (w, v) => w.u32(v), read: (r) => r.u32() };

// ignoreBOM: a string that starts with U+FEFF keeps it (the decoder drops it by default).
const fromUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const str: Codec<string> = {
  write: (w, v) => w.utf8(v),
  read: (r) => fromUtf8.decode(r.bytes(r.u16())),
};

export const ip: Codec<Ip> = {
  write(w, v) { w.u8(v.family); w.bytes(v.bytes); },
  read(r) {
    const family = r.u8();
    if (family !== 4 && family !== 6) throw new RangeError(`bad address family ${family}`);
    return { family, bytes: r.bytes(family === 4 ? 4 : 16) };
  },
};

export const cidr: Codec<Cidr> = {
  write(w, v) { ip.write(w, v.ip); w.u8(v.prefix); },
  read: (r) => ({ ip: ip.read(r), prefix: r.u8() }),
};

export function list<T>(item: Codec<T>): Codec<T[]> {
  return {
    write(w, v) {
      if (v.length > RECORD_MAX) throw new RangeError(`list of ${v.length} items exceeds the record ABI's ${RECORD_MAX}`);
      w.u16(v.length);
      for (let i = 0; i < v.length; i++) item.write(w, v[i]);
    },
    read(r) {
      const n = r.u16();
      return Array.from({ length: n }, () => item.read(r));
    },
  };
}

// The writers walk their fields by index, over arrays of keys and codecs: a
// full sync writes 20,000 records of 20-odd fields, and destructuring
// [key, codec] pairs in for-of (and a closure per flags byte) took a third
// of the writing while V8 runs it unoptimized, as at the agent's start.

/** Fields are laid out in the order the description lists them. */
export function struct<T extends object>(fields: { [K in keyof T]: Codec<T[K]> }): Codec<T> {
  const entries = Object.entries(fields) as [keyof T, Codec<unknown>][];
  const keys = entries.map(([k]) => k), codecs = entries.map(([, c]) => c);
  return {
    write(w, v) {
      for (let i = 0; i < keys.length; i++) codecs[i].write(w, v[keys[i]]);
    },
    read(r) {
      const out = {} as T;
      for (const [k, c] of entries) out[k] = c.read(r) as T[keyof T];
      return out;
    },
  };
}

/** Optional parts announced by bits of a leading u8 flags byte. */
export function flagged<T extends object>(parts: { [K in keyof T]-?: [bit: number, codec: Codec<NonNullable<T[K]>>] }): Codec<T> {
  const entries = Object.entries(parts) as [keyof T, [number, Codec<unknown>]][];
  const keys = entries.map(([k]) => k), bits = entries.map(([, [bit]]) => bit), codecs = entries.map(([, [, c]]) => c);
  return {
    write(w, v) {
      let flags = 0;
      for (let i = 0; i < keys.length; i++) if (v[keys[i]] !== undefined) flags |= bits[i];
      w.u8(flags);
      for (let i = 0; i < keys.length; i++) if (v[keys[i]] !== undefined) codecs[i].write(w, v[keys[i]]);
    },
    read(r) {
      const flags = r.u8();
      const out = {} as T;
      for (const [k, [bit, c]] of entries) if (flags & bit) out[k] = c.read(r) as T[keyof T];
      return out;
    },
  };
}
