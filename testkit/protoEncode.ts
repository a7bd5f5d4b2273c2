// JSON-shaped Kubernetes objects -> protobuf bodies, as the API server
// writes them: "k8s\0" and a runtime.Unknown envelope around a list or an
// object; a watch event as a length-prefixed frame, a bare WatchEvent around
// an enveloped object. The fields sluice reads take protoSchema.ts's numbers
// and types; a value of the wrong type there cannot be written (the real
// server's typed schema could not hold it) and throws Unencodable.
// Every other field is written too, so the bytes are as many as a real
// server's, under numbers from 1000 up (upstream's are all below 100): the
// decoder skips them as it skips a real server's.
import pb from 'protobufjs/minimal.js';
import { compareUtf8 } from '../runtime/encode/compareUtf8.ts';
import { rfc3339Ms } from '../runtime/encode/fields.ts';
import { I64, KINDS, LEN, LISTS, MAGIC, TYPE_META, UNKNOWN, VARINT, WATCH_EVENT, type Field, type Message, type Scalar } from '../runtime/sources/protoSchema.ts';
import { isObject } from '../runtime/sources/watchedKinds.ts';

type Writer = pb.Writer;
type Obj = { [k: string]: unknown };

export class Unencodable extends Error {}

const OTHER = 1000;

/** kind's List (PodList, ...) of items, as a list response's body. */
export function encodeList(apiVersion: string, kind: string, items: readonly unknown[], resourceVersion: string, cont?: string): Uint8Array {
  const m = LISTS[`${kind}List`];
  if (!m) throw new Unencodable(`no protobuf schema for ${kind}`);
  return enveloped(apiVersion, `${kind}List`, (w) => fields(w, { metadata: { resourceVersion, continue: cont ?? '' }, items }, m, ''));
}

/** One object, as a GET of it or a watch event's object carries it. */
export function encodeObject(apiVersion: string, kind: string, object: unknown): Uint8Array {
  const m = KINDS[kind];
  return enveloped(apiVersion, kind, (w) => (m ? fields(w, asObject(object, kind), m, '') : other(w, object)));
}

/** A watch event's frame: its length (4 bytes, big-endian), then the WatchEvent, bare (no prefix, no envelope), its object enveloped. */
export function encodeWatchFrame(type: string, apiVersion: string, kind: string, object: unknown): Uint8Array {
  const raw = encodeObject(apiVersion, kind, object);
  const w = pb.Writer.create();
  w.uint32(WATCH_EVENT.type << 3 | LEN).string(type);
  w.uint32(WATCH_EVENT.object << 3 | LEN).fork().uint32(WATCH_EVENT.raw << 3 | LEN).bytes(raw).ldelim();
  return lengthPrefixed(w.finish());
}

/** A watch frame around body: its length as 4 bytes, big-endian, first. */
export function lengthPrefixed(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

function enveloped(apiVersion: string, kind: string, raw: (w: Writer) => void): Uint8Array {
  const w = pb.Writer.create();
  w.uint32(UNKNOWN.typeMeta << 3 | LEN).fork();
  fields(w, { apiVersion, kind }, TYPE_META, 'typeMeta');
  w.ldelim();
  w.uint32(UNKNOWN.raw << 3 | LEN).fork();
  raw(w);
  w.ldelim();
  const body = w.finish();
  const out = new Uint8Array(MAGIC.length + body.length);
  out.set(MAGIC);
  out.set(body, MAGIC.length);
  return out;
}

function asObject(v: unknown, at: string): Obj {
  if (!isObject(v)) throw new Unencodable(`${at}: not an object`);
  return v;
}

/** o's fields as message m's: the known ones by number and type, the rest under numbers of their own. */
/** Each message's field numbers by name, made once: the fake server encodes every event with them. */
const byName = new WeakMap<Message, Map<string, number>>();

function numbersOf(m: Message): Map<string, number> {
  let numbers = byName.get(m);
  if (!numbers) {
    numbers = new Map();
    m.fields.forEach((f, n) => f && numbers!.set(f.name, n));
    byName.set(m, numbers);
  }
  return numbers;
}

function fields(w: Writer, o: Obj, m: Message, at: string): void {
  const numbers = numbersOf(m);
  Object.keys(o).forEach((key, i) => {
    const v = o[key], n = numbers.get(key), path = `${at}${at ? '.' : ''}${key}`;
    if (v === undefined || v === null) return; // Go has no null to write: absent
    if (n === undefined) return otherField(w, OTHER + i, v);
    const f = m.fields[n]!;
    if (!f.repeated) return known(w, n, f.type, v, path);
    if (!Array.isArray(v)) throw new Unencodable(`${path}: not a list`);
    for (let j = 0; j < v.length; j++) { // not forEach: a hole is an item Go cannot hold, as null is
      if (v[j] === undefined || v[j] === null) throw new Unencodable(`${path}[${j}]: null`);
      known(w, n, f.type, v[j], `${path}[${j}]`);
    }
  });
}

function known(w: Writer, n: number, type: Field['type'], v: unknown, at: string): void {
  if (typeof type !== 'string') {
    w.uint32(n << 3 | LEN).fork();
    fields(w, asObject(v, at), type, at);
    w.ldelim();
    return;
  }
  scalar(w, n, type, v, at);
}

function scalar(w: Writer, n: number, type: Scalar, v: unknown, at: string): void {
  const fail = (what: string) => new Unencodable(`${at}: ${JSON.stringify(v)} is not ${what}`);
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw fail('a string');
      w.uint32(n << 3 | LEN).string(v);
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw fail('a boolean');
      w.uint32(n << 3 | VARINT).bool(v);
      return;
    case 'int':
      if (!Number.isSafeInteger(v)) throw fail('an integer');
      w.uint32(n << 3 | VARINT).int64(v as number);
      return;
    case 'time': {
      const ms = typeof v === 'string' ? rfc3339Ms(v) : NaN;
      if (Number.isNaN(ms)) throw fail('an RFC 3339 time');
      w.uint32(n << 3 | LEN).fork().uint32(1 << 3 | VARINT).int64(Math.floor(ms / 1000)).ldelim();
      return;
    }
    case 'intOrString':
      if (typeof v === 'string') w.uint32(n << 3 | LEN).fork().uint32(1 << 3 | VARINT).int64(1).uint32(3 << 3 | LEN).string(v).ldelim();
      else if (Number.isInteger(v) && Math.abs(v as number) < 2 ** 31) w.uint32(n << 3 | LEN).fork().uint32(1 << 3 | VARINT).int64(0).uint32(2 << 3 | VARINT).int32(v as number).ldelim();
      else throw fail('an int32 or a string');
      return;
    case 'map': // entries by key, as the API server's generated code writes them (it sorts a map's keys)
      for (const [key, value] of Object.entries(asObject(v, at)).sort(([a], [b]) => compareUtf8(a, b))) {
        if (typeof value !== 'string') throw new Unencodable(`${at}[${JSON.stringify(key)}]: not a string`);
        w.uint32(n << 3 | LEN).fork().uint32(1 << 3 | LEN).string(key).uint32(2 << 3 | LEN).string(value).ldelim();
      }
  }
}

/** A field the schema does not name, typed by its value as Go's would be. */
function otherField(w: Writer, n: number, v: unknown): void {
  if (Array.isArray(v)) v.forEach((item) => item !== null && otherField(w, n, item));
  else if (typeof v === 'string') w.uint32(n << 3 | LEN).string(v);
  else if (typeof v === 'boolean') w.uint32(n << 3 | VARINT).bool(v);
  else if (typeof v === 'number') (Number.isSafeInteger(v) ? w.uint32(n << 3 | VARINT).int64(v) : w.uint32(n << 3 | I64).double(v));
  else if (isObject(v)) {
    w.uint32(n << 3 | LEN).fork();
    other(w, v);
    w.ldelim();
  }
}

function other(w: Writer, v: unknown): void {
  if (isObject(v)) Object.keys(v).forEach((key, i) => v[key] !== null && v[key] !== undefined && otherField(w, OTHER + i, v[key]));
}
