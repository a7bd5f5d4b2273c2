// Reads fields of map keys and values by name, with the offsets, sizes and
// byte order tools/gen-abi.ts took from BTF, so a layout change in
// bpf/include/sluice_abi.h reaches the views without editing them.
import type { FieldLayout, StructLayout } from './mapLayout.ts';

export function fieldOf(s: StructLayout, name: string): FieldLayout {
  const f = s.fields.find((x) => x.name === name);
  if (!f) throw new Error(`struct ${s.name} has no field ${name}: runtime/abi is out of date, run npm run gen`);
  return f;
}

/** An unsigned integer field of 1, 2 or 4 bytes, in its declared byte order; at: where the struct starts in bytes (packed entries). */
export function uintReader(s: StructLayout, name: string): (bytes: Uint8Array, at?: number) => number {
  const f = fieldOf(s, name);
  if (f.size !== f.elemSize || (f.size !== 1 && f.size !== 2 && f.size !== 4)) {
    throw new Error(`struct ${s.name} field ${name} is ${f.size} bytes, not an integer of 1, 2 or 4`);
  }
  const { offset, size, bigEndian } = f;
  return (b, at = 0) => {
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + b[at + offset + (bigEndian ? i : size - 1 - i)];
    return v;
  };
}

/** The raw bytes of a field (arrays such as char name[128]). */
export function bytesReader(s: StructLayout, name: string): (bytes: Uint8Array) => Uint8Array {
  const { offset, size } = fieldOf(s, name);
  return (b) => b.subarray(offset, offset + size);
}

/** An unsigned 64-bit field (counters, ktime stamps), as a bigint. */
export function u64Reader(s: StructLayout, name: string): (bytes: Uint8Array, at?: number) => bigint {
  const f = fieldOf(s, name);
  if (f.size !== 8 || f.elemSize !== 8) throw new Error(`struct ${s.name} field ${name} is ${f.size} bytes, not a 64-bit integer`);
  return (b, at = 0) => {
    const v = new DataView(b.buffer, b.byteOffset + at + f.offset, 8);
    return f.bigEndian ? v.getBigUint64(0) : v.getBigUint64(0, true);
  };
}
