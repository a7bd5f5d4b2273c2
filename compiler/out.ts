// The output buffer: one per module, reused by every call, so the host must
// copy what it needs before calling again. Writers work with offsets, since
// growing the buffer moves it.

let buf = new Uint8Array(1 << 16);
let len: i32 = 0;

export function begin(): void { len = 0; }

export function offset(): i32 { return len; }

/** Makes room for n bytes; returns the offset where they go. */
export function reserve(n: i32): i32 {
  if (len + n > buf.length) {
    const next = new Uint8Array(max(buf.length * 2, len + n));
    next.set(buf.subarray(0, len));
    buf = next;
  }
  const at = len;
  len += n;
  return at;
}

/** Address of an offset; valid until the next reserve. */
export function at(off: i32): usize { return buf.dataStart + <usize>off; }

export function putU32(v: u32): void { store<u32>(at(reserve(4)), v); }

export function putU32At(off: i32, v: u32): void { store<u32>(at(off), v); }

export function str(s: string): void {
  const b = String.UTF8.encode(s);
  const n = min(b.byteLength, 0xffff);
  const o = reserve(2 + n);
  store<u16>(at(o), <u16>n);
  memory.copy(at(o + 2), changetype<usize>(b), <usize>n);
}

/** Writes the total length at offset 0; returns the buffer's address. */
export function finish(): usize {
  putU32At(0, <u32>len);
  return at(0);
}
