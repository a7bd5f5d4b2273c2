// Kubernetes protobuf bodies (a list, a watch event, an error) -> plain
// objects shaped as their JSON, holding only the fields protoSchema.ts names.
// A list parsed as JSON builds every field of every object, and the
// collector then walks them all; here a Pod's containers, volumes and status
// are skipped by length, never built.
//
// What Go's JSON leaves out, the decoded object leaves out too: an empty
// string (the API's JSON omits it, its protobuf writes it) and an empty
// metav1.Time. Booleans and numbers stay as sent: an endpoint's ready: false
// is not the same as no ready at all.
import pb from 'protobufjs/minimal.js';
import { KINDS, LEN, LIST, LISTS, MAGIC, STATUS, TYPE_META, UNKNOWN, VARINT, WATCH_EVENT, type Field, type Message, type Scalar } from './protoSchema.ts';

type Obj = { [k: string]: unknown };
type Reader = pb.Reader;

export interface List { kind: string; resourceVersion: string; continue: string | undefined; items: Items }

/**
 * A list's body: PodList, ServiceList, ... Its items are framed here and
 * decoded one at a time as they are read, each after the one before has been
 * passed on: a page's 500 objects are never alive at once, and each dies
 * young (decoded whole, the page's objects outlived a young collection or two,
 * and were copied by it).
 */
export function decodeList(body: Uint8Array): List {
  const { r, end, kind } = envelope(body);
  const m = LISTS[kind];
  if (!m) throw new Error(`a protobuf list of ${kind || 'no kind'}, not one sluice reads`);
  const items = m.fields[LIST.items]!;
  let meta: { resourceVersion?: string; continue?: string } = {};
  const spans: number[] = [];
  while (r.pos < end) {
    const f = field(r, m);
    if (f === undefined) continue;
    const len = r.uint32(), start = r.pos;
    if (f !== items) meta = decodeMessage(r, start + len, f.type as Message);
    else {
      spans.push(start, start + len);
      r.pos = start + len;
    }
  }
  if (r.pos !== end) throw new RangeError(`${m.name}: a field runs past its message`);
  return { kind: kind.slice(0, -'List'.length), resourceVersion: meta.resourceVersion ?? '', continue: meta.continue, items: new Items(r, spans, items.type as Message) };
}

/** A list's items, each decoded when the iteration comes to it; a damaged one throws there. */
export class Items implements Iterable<Obj> {
  readonly #r: Reader;
  readonly #spans: readonly number[]; // start and end of each item
  readonly #item: Message;

  constructor(r: Reader, spans: readonly number[], item: Message) {
    this.#r = r;
    this.#spans = spans;
    this.#item = item;
  }

  get length(): number {
    return this.#spans.length / 2;
  }

  *[Symbol.iterator](): Iterator<Obj> {
    for (let i = 0; i < this.#spans.length; i += 2) {
      this.#r.pos = this.#spans[i];
      yield decodeMessage(this.#r, this.#spans[i + 1], this.#item);
    }
  }
}

/**
 * One frame of a protobuf watch: a bare metav1.WatchEvent (the stream's
 * serializer writes no prefix and no envelope, as client-go's decoder
 * expects), whose object is an enveloped object; kind and apiVersion are set
 * from that envelope.
 */
export function decodeWatchEvent(frame: Uint8Array): { type: string; object: Obj } {
  const r = pb.Reader.create(frame), end = frame.length;
  let type = '', object: Obj = {};
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === WATCH_EVENT.type && (tag & 7) === LEN) type = r.string();
    else if (tag >>> 3 === WATCH_EVENT.object && (tag & 7) === LEN) object = rawExtension(r, r.uint32() + r.pos);
    else r.skipType(tag & 7);
  }
  if (type === '') throw new Error('a watch frame with no event type'); // garbage that happened to parse
  return { type, object };
}

/** An error body's message (metav1.Status), or undefined if it is not one. */
export function statusMessage(body: Uint8Array): string | undefined {
  try {
    const { r, end, kind } = envelope(body);
    if (kind !== 'Status') return undefined;
    const message = decodeMessage(r, end, STATUS).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

function rawExtension(r: Reader, end: number): Obj {
  let object: Obj = {};
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === WATCH_EVENT.raw && (tag & 7) === LEN) {
      const len = r.uint32();
      object = decodeObject(r.buf.subarray(r.pos, r.pos + len));
      r.pos += len;
    } else r.skipType(tag & 7);
  }
  return object;
}

function decodeObject(body: Uint8Array): Obj {
  const { r, end, kind, apiVersion } = envelope(body);
  const m = KINDS[kind];
  if (!m) return { apiVersion, kind }; // a kind sluice does not read: the normalizer says so
  return { apiVersion, kind, ...decodeMessage(r, end, m) };
}

/** runtime.Unknown after the magic: the TypeMeta, and a reader over raw's bytes. */
function envelope(body: Uint8Array): { r: Reader; end: number; apiVersion: string; kind: string } {
  if (body.length < MAGIC.length || MAGIC.some((b, i) => body[i] !== b)) throw new Error('not a Kubernetes protobuf body (no "k8s\\0" prefix)');
  const r = pb.Reader.create(body);
  r.pos = MAGIC.length;
  let apiVersion = '', kind = '', start = 0, end = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === UNKNOWN.typeMeta && (tag & 7) === LEN) {
      const meta = decodeMessage(r, r.uint32() + r.pos, TYPE_META);
      apiVersion = (meta.apiVersion as string | undefined) ?? '';
      kind = (meta.kind as string | undefined) ?? '';
    } else if (tag >>> 3 === UNKNOWN.raw && (tag & 7) === LEN) {
      const len = r.uint32();
      start = r.pos;
      end = r.pos = start + len;
    } else r.skipType(tag & 7);
  }
  if (end > r.len) throw new RangeError('a protobuf body cut short');
  r.pos = start;
  return { r, end, apiVersion, kind };
}

type Decoder = (r: Reader, end: number) => Obj;

const decoders = new Map<Message, Decoder>();

function decodeMessage(r: Reader, end: number, m: Message): Obj {
  return (decoders.get(m) ?? decoderOf(m))(r, end);
}

/**
 * A message's decoder, written for it from the schema: a switch on each
 * field's whole tag (its number and wire type) that stores under the field's
 * own name. One generic loop stored every field of every kind through one
 * site, by a name known only at run time, and V8 met every store and every
 * object's shape there as a stranger: decoding the cluster's lists took 72 ms
 * a pass against 49 ms now (83-90 against 68-71 the first time). Field names
 * come from protoSchema.ts alone, and go in quoted.
 */
function decoderOf(m: Message): Decoder {
  const subs: Decoder[] = [];
  const cases = m.fields.flatMap((f, n) => {
    if (f === undefined) return [];
    const read = typeof f.type === 'object' ? `subs[${subs.push(decoders.get(f.type) ?? decoderOf(f.type)) - 1}](r, r.uint32() + r.pos)` : READS[f.type];
    return [`case ${n * 8 + wireType(f)}: ${storeOf(f, read)} break;`];
  });
  const source = `return function decode${m.name}(r, end) {
  const out = {};
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      ${cases.join('\n      ')}
      default: other(r, tag, m);
    }
  }
  if (r.pos !== end) throw new RangeError(${JSON.stringify(`${m.name}: a field runs past its message`)});
  return out;
};`;
  const d = new Function('subs', 'm', 'other', 'entry', 'int64', 'time', 'intOrString', source)(subs, m, other, entry, int64, time, intOrString) as Decoder;
  decoders.set(m, d);
  return d;
}

const READS: { readonly [t in Scalar]: string } = {
  string: 'r.string()', bool: 'r.bool()', int: 'int64(r)',
  time: 'time(r, r.uint32() + r.pos)', intOrString: 'intOrString(r, r.uint32() + r.pos)',
  map: '', // storeOf reads a map entry by entry
};

/** The statement that stores one read of field f into out. */
function storeOf(f: Field, read: string): string {
  const at = `out[${JSON.stringify(f.name)}]`;
  if (f.type === 'map') return `entry(${at} ??= {}, r, r.uint32() + r.pos);`;
  // A list's first item makes an array of one: an empty one's first push takes room for 17, and most lists here hold one or two
  if (f.repeated) return `{ const v = ${read}, a = ${at}; if (a === undefined) ${at} = [v]; else a.push(v); }`;
  if (f.type === 'string' || f.type === 'time' || f.type === 'intOrString') {
    return `{ const v = ${read}; if (v !== undefined && v !== '') ${at} = v; }`; // what Go's JSON leaves out
  }
  return `${at} = ${read};`;
}

/** A tag no case of m's decoder takes: a field the schema does not name, read past, or one of its fields with the wrong wire type. */
function other(r: Reader, tag: number, m: Message): void {
  const f = m.fields[tag >>> 3];
  if (f !== undefined) throw new Error(`${m.name}.${f.name}: wire type ${tag & 7}, not ${wireType(f)}`);
  r.skipType(tag & 7);
}

/**
 * An int64 as a number. One of up to 7 bytes (49 bits: every port, count
 * and time) is read here; protobufjs reads any int64 through LongBits and a
 * Long where the long package is installed (client-node's dependencies put
 * it there), 4.7 MiB of garbage at a full sync. A longer or negative one
 * (10 bytes) is left to it.
 */
function int64(r: Reader): number {
  const buf = r.buf;
  let value = 0, scale = 1;
  for (let pos = r.pos; pos < r.pos + 7; pos++, scale *= 128) {
    const b = buf[pos]; // past the end: undefined, which ends nothing, and protobufjs then throws
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      r.pos = pos + 1;
      return value;
    }
  }
  const v = r.int64() as unknown as number | { toNumber(): number };
  return typeof v === 'number' ? v : v.toNumber();
}

const wireType = (f: Field) => (f.type === 'bool' || f.type === 'int' ? VARINT : LEN);

/** The next field of m, its wire type checked; undefined for one the schema does not name, read past. */
function field(r: Reader, m: Message): Field | undefined {
  const tag = r.uint32(), f = m.fields[tag >>> 3];
  if (f !== undefined && (tag & 7) === wireType(f)) return f;
  other(r, tag, m);
  return undefined;
}

/** A map<string, string> entry (key 1, value 2) into m; as an own property even if the key is "__proto__"
 * (defined, not assigned: only then, as defining every entry cost an eighth of decoding a list). */
function entry(m: Obj, r: Reader, end: number): void {
  let key = '', val = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === (1 << 3 | LEN)) key = r.string();
    else if (tag === (2 << 3 | LEN)) val = r.string();
    else r.skipType(tag & 7);
  }
  if (key === '__proto__') Object.defineProperty(m, key, { value: val, enumerable: true, writable: true, configurable: true });
  else m[key] = val;
}

/** metav1.Time: seconds (1) as RFC 3339, as its JSON writes it (whole seconds, UTC); undefined for the zero time. */
function time(r: Reader, end: number): string | undefined {
  let seconds: number | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === (1 << 3 | VARINT)) seconds = int64(r);
    else r.skipType(tag & 7);
  }
  if (seconds === undefined) return undefined;
  const date = new Date(seconds * 1000);
  // A time no Date holds (±275,000 years) stays what it was sent as, for the normalizer to reject that object alone
  return Number.isNaN(date.getTime()) ? `${seconds} seconds` : date.toISOString().replace('.000Z', 'Z');
}

/** intstr.IntOrString: type (1; 1 for a string), intVal (2), strVal (3). */
function intOrString(r: Reader, end: number): number | string {
  let type = 0, int = 0, str = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === (1 << 3 | VARINT)) type = int64(r);
    else if (tag === (2 << 3 | VARINT)) int = r.int32();
    else if (tag === (3 << 3 | LEN)) str = r.string();
    else r.skipType(tag & 7);
  }
  return type === 1 ? str : int;
}
