// What the event log keeps of an object: exactly the fields the normalizer
// reads, found by running it (isIgnored, refOf, normalize, as
// normalizeEvents calls them) on a proxy that notes each read. Replaying the
// kept fields reads the same values along the same path, so it gives the same
// records, rejections and notes; everything else (env values, annotations,
// status conditions, a Pod's spec beyond its ports) never reaches the disk.
// A field of the wrong type is kept as read: a string stays (the rejection
// quotes it), a list or object the normalizer did not open stays empty (the
// rejection says only "a list", "an object"). Only metadata.resourceVersion is
// kept beyond that, to tell which version of an object a log holds.
import { isIgnored, normalize, refOf } from './records.ts';

interface Reads {
  /** Own properties read, by name, and what was read of each. */
  readonly keys: Map<string, Reads>;
  /** Its keys were listed (a label map): every key stays. */
  listed: boolean;
}

const fresh = (): Reads => ({ keys: new Map(), listed: false });
const isContainer = (v: unknown): v is object => v !== null && typeof v === 'object';

/** The object as an upsert or a delete event records it. */
export function recordedObject(type: 'upsert' | 'delete', obj: unknown): unknown {
  const reads = fresh();
  const seen = watched(obj, reads);
  const ignored = isIgnored(seen), ref = ignored ? undefined : refOf(seen);
  if (!ignored && (type === 'upsert' || !ref)) normalize(seen);
  const out = kept(obj, reads);
  const rv = (obj as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
  if (isContainer(out) && isContainer((out as { metadata?: unknown }).metadata) && typeof rv === 'string') {
    (out as { metadata: { resourceVersion?: string } }).metadata.resourceVersion = rv;
  }
  return out;
}

/** A view of v that notes into reads every property read through it, however deep. */
function watched(v: unknown, reads: Reads): unknown {
  if (!isContainer(v)) return v;
  const note = (key: string | symbol) => {
    if (typeof key !== 'string' || !Object.hasOwn(v, key)) return undefined;
    let r = reads.keys.get(key);
    if (!r) reads.keys.set(key, (r = fresh()));
    return r;
  };
  return new Proxy(v, {
    get(target, key) {
      const value = Reflect.get(target, key);
      const r = note(key);
      return r ? watched(value, r) : value;
    },
    has(target, key) {
      note(key);
      return Reflect.has(target, key);
    },
    getOwnPropertyDescriptor(target, key) {
      note(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
    ownKeys(target) {
      reads.listed = true;
      return Reflect.ownKeys(target);
    },
  });
}

/** v with only what reads holds: containers keep their shape, values read stay as they are. */
function kept(v: unknown, reads: Reads): unknown {
  if (!isContainer(v)) return v;
  if (Array.isArray(v)) return v.map((item, i) => keptChild(item, reads.keys.get(String(i)), reads.listed));
  const out: { [k: string]: unknown } = {};
  for (const key of Object.keys(v)) {
    const r = reads.keys.get(key);
    // defineProperty: a key "__proto__" (a label may be called that) stays an own property
    if (r || reads.listed) Object.defineProperty(out, key, { value: keptChild((v as { [k: string]: unknown })[key], r, reads.listed), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** An item of a list (all of which stay, so its length does) or a property: unread ones keep only their kind. */
function keptChild(v: unknown, r: Reads | undefined, listed: boolean): unknown {
  if (r) return kept(v, r);
  if (isContainer(v)) return Array.isArray(v) ? [] : {};
  return listed ? v : null;
}
