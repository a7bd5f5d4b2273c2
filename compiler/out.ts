// The output buffer: one per module, reused by every call, so the host must
// be done with one result before it calls again.
import { RawBuf } from './rawbuf';

const buf = new RawBuf();
let len: i32 = 0;

export function begin(): void { len = 0; }

/** Makes room for n bytes; returns the offset where they go. */
export function reserve(n: i32): i32 {
  buf.ensure(<usize>(len + n));
  const at = len;
  len += n;
  return at;
}

/** Bytes reserved since begin. */
export function length(): i32 { return len; }

/** Address of an offset; valid until the next reserve. */
export function at(off: i32): usize { return buf.ptr + <usize>off; }

export function putU32(v: u32): void { store<u32>(at(reserve(4)), v); }

export function putU32At(off: i32, v: u32): void { store<u32>(at(off), v); }

export function str(s: string): void {
  const n = min(String.UTF8.byteLength(s), 0xffff);
  const o = reserve(2 + n);
  store<u16>(at(o), <u16>n);
  if (n < 0xffff) String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, at(o + 2));
}

/** Writes the total length at offset 0; returns the buffer's address. */
export function finish(): usize {
  putU32At(0, <u32>len);
  return at(0);
}
