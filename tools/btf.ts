// Reads the ABI types out of a compiled BPF object's BTF (through bpftool), so
// layouts are taken from what clang laid out, never from a hand-kept copy.
import { run } from '../runtime/exec/command.ts';

export interface Field {
  name: string;
  offset: number; // bytes
  size: number; // bytes, whole field (arrays included)
  elemSize: number; // bytes of one element (== size unless an array)
  bigEndian: boolean; // declared __be16/__be32
  signed: boolean;
}

export interface Struct {
  name: string;
  size: number;
  fields: Field[];
}

const ABI_STRUCT = /_(key|val)$|^sl_config$|^stale_sock$/;

/** Enums, the map key and value structs (named *_key and *_val), sl_config and stale_sock. */
export interface Layouts {
  enums: Map<string, Map<string, number>>;
  structs: Map<string, Struct>;
}

interface BtfType {
  id: number;
  kind: string;
  name: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  encoding?: string;
  members?: { name: string; type_id: number; bits_offset: number }[];
  values?: { name: string; val: number }[];
}

export function readLayouts(objPath: string): Layouts {
  const json = run(['bpftool', 'btf', 'dump', 'file', objPath, '-j'], { timeoutMs: 120_000 });
  const types = new Map<number, BtfType>();
  for (const t of JSON.parse(json).types as BtfType[]) types.set(t.id, t);
  const enums = new Map<string, Map<string, number>>();
  const structs = new Map<string, Struct>();
  for (const t of types.values()) {
    if (t.kind === 'ENUM' && t.name !== '(anon)') {
      enums.set(t.name, new Map(t.values!.map((v) => [v.name, v.val])));
    } else if (t.kind === 'STRUCT' && ABI_STRUCT.test(t.name)) {
      structs.set(t.name, { name: t.name, size: t.size!, fields: t.members!.map((m) => field(types, m)) });
    }
  }
  return { enums, structs };
}

function field(types: Map<number, BtfType>, m: { name: string; type_id: number; bits_offset: number }): Field {
  if (m.bits_offset % 8 !== 0) throw new Error(`BTF field ${m.name}: bitfields are not part of the ABI`);
  let t = types.get(m.type_id)!;
  let bigEndian = false;
  let count = 1;
  for (;;) {
    if (t.kind === 'TYPEDEF') {
      if (t.name === '__be16' || t.name === '__be32' || t.name === '__be64') bigEndian = true;
      t = types.get(t.type_id!)!;
    } else if (t.kind === 'ARRAY') {
      count *= t.nr_elems!;
      t = types.get(t.type_id!)!;
    } else break;
  }
  if (t.kind !== 'INT' && t.kind !== 'ENUM') throw new Error(`BTF field ${m.name}: ${t.kind} is not a plain integer`);
  const elemSize = t.size!;
  return { name: m.name, offset: m.bits_offset / 8, size: elemSize * count, elemSize, bigEndian, signed: t.encoding === 'SIGNED' };
}
