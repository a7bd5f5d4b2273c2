// Strict readers for the fields of a Kubernetes object. Each takes a value and
// its path ("spec.ports[1].port") and throws Invalid naming that path, so a bad
// object is rejected whole with one precise message instead of half-compiled.
// "Absent" means missing or null: kubectl prints both for an unset field.
// Lists and strings longer than a record holds are invalid here too: an
// object the encoder could not write must be rejected, not thrown on.
import { RECORD_MAX } from './codec.ts';

export class Invalid extends Error {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.field = field;
    this.reason = reason;
  }
}

export type Obj = { readonly [key: string]: unknown };

const SHOWN_MAX = 64; // characters of a string shown in a reason: a name may be a megabyte

/** How a bad value reads in a reason: strings quoted (a long one cut), containers by kind. */
export function shown(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v !== null && typeof v === 'object') return 'an object';
  if (typeof v === 'string' && v.length > SHOWN_MAX) return `${JSON.stringify(v.slice(0, SHOWN_MAX))}... (${v.length} characters)`;
  return JSON.stringify(v) ?? String(v);
}

export function absent(v: unknown): v is null | undefined {
  return v === undefined || v === null;
}

/** An object, or {} when absent. */
export function object(v: unknown, field: string): Obj {
  if (absent(v)) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new Invalid(field, `${shown(v)} is not an object`);
  return v as Obj;
}

/** A list, or [] when absent. Holes of a sparse array read as absent items, not skipped ones. */
export function list(v: unknown, field: string): readonly unknown[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) throw new Invalid(field, `${shown(v)} is not a list`);
  fits(v.length, 'items', field);
  return v.includes(undefined) ? Array.from(v) : v; // includes sees a hole as undefined; a list without one is read as it is
}

/** Invalid when n of what (items, labels, ports) is more than a record holds. */
export function fits(n: number, what: string, field: string): void {
  if (n > RECORD_MAX) throw new Invalid(field, `${n} ${what}; a record holds at most ${RECORD_MAX}`);
}

const encoder = new TextEncoder();

/** Whether s surely fits a record without encoding it: UTF-8 takes at most 3 bytes per UTF-16 unit. */
const surelyFits = (s: string) => s.length * 3 <= RECORD_MAX;

/** s, unless its UTF-8 is longer than a record holds. */
export function short(s: string, field: string): string {
  if (surelyFits(s)) return s;
  const n = encoder.encode(s).length;
  if (n > RECORD_MAX) throw new Invalid(field, `is ${n} bytes of UTF-8; a record holds at most ${RECORD_MAX}`);
  return s;
}

/** short, for the value at key in the map at field: its path is spelled out only for the error. */
export function shortValue(s: string, field: string, key: string): string {
  return surelyFits(s) ? s : short(s, keyPath(field, key));
}

/** A string, or dflt when absent. */
export function string(v: unknown, field: string, dflt = ''): string {
  if (absent(v)) return dflt;
  if (typeof v !== 'string') throw new Invalid(field, `${shown(v)} is not a string`);
  return short(v, field);
}

/** A non-empty string; the API server refuses an empty one wherever this is used. */
export function requiredString(v: unknown, field: string): string {
  const s = string(v, field);
  if (s === '') throw new Invalid(field, 'missing');
  return s;
}

export function boolean(v: unknown, field: string, dflt: boolean): boolean {
  if (absent(v)) return dflt;
  if (typeof v !== 'boolean') throw new Invalid(field, `${shown(v)} is not true or false`);
  return v;
}

/** An integer in [min, max], or undefined when absent. */
export function integer(v: unknown, field: string, min: number, max: number): number | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Invalid(field, `${shown(v)} is not an integer`);
  if (v < min || v > max) throw new Invalid(field, `${v} is out of range ${min}-${max}`);
  return v;
}

export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[], dflt: T): T {
  const s = string(v, field, dflt);
  if (!(allowed as readonly string[]).includes(s)) {
    throw new Invalid(field, `${shown(s)} is not one of ${allowed.join(', ')}`);
  }
  return s as T;
}

// RFC 3339, as metav1.Time is written: a date, a time, an optional fraction, Z or an offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const U32_MAX = 0xffffffff;

/** An RFC 3339 time in ms since 1970; NaN for anything else. */
export const rfc3339Ms = (s: string): number => (RFC3339.test(s) ? Date.parse(s.toUpperCase()) : NaN);

/** A metav1.Time as whole seconds since 1970 (the fraction dropped), 0 when absent. */
export function timestamp(v: unknown, field: string): number {
  const s = string(v, field);
  if (s === '') return 0;
  const ms = rfc3339Ms(s);
  if (Number.isNaN(ms)) throw new Invalid(field, `${shown(s)} is not an RFC 3339 time`);
  const secs = Math.floor(ms / 1000);
  if (secs < 0 || secs > U32_MAX) throw new Invalid(field, `${shown(s)} is not between 1970 and 2106`);
  return secs;
}

/**
 * read(v, arg), for item i of the list at field, whose fields read names by
 * their path within the item ("conditions.ready"): an Invalid it throws is
 * named by the whole path then ("endpoints[3].conditions.ready"). A full
 * sync's 25,000 endpoints spelled out 250,000 whole paths otherwise, for
 * errors that almost never come.
 */
export function item<A, T>(field: string, i: number, read: (v: unknown, arg: A) => T, v: unknown, arg: A): T {
  try {
    return read(v, arg);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    throw new Invalid(e.field === '' ? `${field}[${i}]` : `${field}[${i}].${e.field}`, e.reason);
  }
}

/** Path of a map entry: metadata.labels["app"]. */
export function keyPath(field: string, key: string): string {
  return `${field}[${JSON.stringify(key)}]`;
}
