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

/** A map as the object defines it (libbpf's BTF map definition in .maps). */
export interface MapDef {
  name: string;
  type: number; // BPF_MAP_TYPE_*
  maxEntries: number;
  /** The key and value types: a struct's name, or the size of a plain integer. */
  key: string | number;
  value: string | number;
}

/** Enums (values in declaration order), the map key and value structs (named *_key and *_val), sl_config and stale_sock, the maps. */
export interface Layouts {
  enums: Map<string, Map<string, number>>;
  structs: Map<string, Struct>;
  maps: Map<string, MapDef>;
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
  values?: { name: string; val: string }[];
  vars?: { type_id: number }[];
}

export function readLayouts(objPath: string): Layouts {
  const json = run(['bpftool', 'btf', 'dump', 'file', objPath, '-j'], { timeoutMs: 120_000 });
  const types = new Map<number, BtfType>();
  // bpftool prints a negative enum value as its 64-bit two's complement, past
  // a double's precision: read values as text.
  for (const t of JSON.parse(json.replace(/"val":\s*(-?\d+)/g, '"val":"$1"')).types as BtfType[]) types.set(t.id, t);
  const enums = new Map<string, Map<string, number>>();
  const structs = new Map<string, Struct>();
  const maps = new Map<string, MapDef>();
  for (const t of types.values()) {
    if (t.kind === 'ENUM' && t.name !== '(anon)') {
      // C enum constants are ints: clang 14 marks them all unsigned, so the sign is read back from 32 bits
      enums.set(t.name, new Map(t.values!.map((v) => [v.name, Number(BigInt.asIntN(32, BigInt(v.val)))])));
    } else if (t.kind === 'STRUCT' && ABI_STRUCT.test(t.name)) {
      structs.set(t.name, { name: t.name, size: t.size!, fields: t.members!.map((m) => field(types, m)) });
    } else if (t.kind === 'DATASEC' && t.name === '.maps') {
      for (const v of t.vars!) {
        const def = mapDef(types, types.get(v.type_id)!);
        maps.set(def.name, def);
      }
    }
  }
  return { enums, structs, maps };
}

/**
 * libbpf's map definition: `__uint(type, N)` is a pointer to an array of N
 * ints, `__type(key, T)` a pointer to T.
 */
function mapDef(types: Map<number, BtfType>, v: BtfType): MapDef {
  const members = new Map(types.get(v.type_id!)!.members!.map((m) => [m.name, types.get(types.get(m.type_id)!.type_id!)!]));
  const uint = (name: string) => {
    const a = members.get(name);
    if (a?.kind !== 'ARRAY') throw new Error(`map ${v.name}: no __uint(${name}, ...)`);
    return a.nr_elems!;
  };
  const type = (name: string) => {
    let t = members.get(name);
    while (t?.kind === 'TYPEDEF') t = types.get(t.type_id!);
    if (!t) throw new Error(`map ${v.name}: no __type(${name}, ...)`);
    return t.kind === 'STRUCT' ? t.name : t.size!;
  };
  return { name: v.name, type: uint('type'), maxEntries: uint('max_entries'), key: type('key'), value: type('value') };
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
