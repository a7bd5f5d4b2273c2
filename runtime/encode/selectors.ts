// Labels and label selectors. The record ABI wants labels sorted by key bytes,
// so the compiler can hash and compare them without sorting again.
import * as R from '../../compiler/abi/records.ts';
import { compareUtf8 } from './compareUtf8.ts';
import { fits, Invalid, keyPath, list, object, oneOf, requiredString, short, shortValue, shown, string } from './fields.ts';
import type { Labels, Selector } from './schema.ts';

/** A string-to-string map, sorted by key. */
export function labels(v: unknown, field: string): Labels {
  const o = object(v, field);
  const keys = Object.keys(o);
  fits(keys.length, 'labels', field);
  // The API server writes a map's keys sorted (Go's JSON and protobuf both do):
  // checking is cheaper than sorting, whose work space was 600 bytes an object.
  if (!sorted(keys)) keys.sort(compareUtf8);
  return keys.map((k) => {
    const value = o[k];
    short(k, field); // the key itself, too long to name the field by
    if (typeof value !== 'string') throw new Invalid(keyPath(field, k), `${shown(value)} is not a string`);
    return [k, shortValue(value, field, k)];
  });
}

function sorted(keys: readonly string[]): boolean {
  for (let i = 1; i < keys.length; i++) if (compareUtf8(keys[i - 1], keys[i]) > 0) return false;
  return true;
}

const OPERATORS = { In: R.SEL_IN, NotIn: R.SEL_NOT_IN, Exists: R.SEL_EXISTS, DoesNotExist: R.SEL_DOES_NOT_EXIST } as const;
const OPERATOR_NAMES = Object.keys(OPERATORS) as (keyof typeof OPERATORS)[];

/** A metav1.LabelSelector; absent is the empty selector, which selects everything. */
export function selector(v: unknown, field: string): Selector {
  const o = object(v, field);
  const matchExpressions = list(o.matchExpressions, `${field}.matchExpressions`).map((e, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    const x = object(e, at);
    const key = requiredString(x.key, `${at}.key`);
    const name = oneOf(requiredString(x.operator, `${at}.operator`), `${at}.operator`, OPERATOR_NAMES, 'In');
    const values = list(x.values, `${at}.values`).map((s, j) => string(s, `${at}.values[${j}]`));
    const wantsValues = name === 'In' || name === 'NotIn';
    if (wantsValues && values.length === 0) throw new Invalid(`${at}.values`, `${name} needs at least one value`);
    if (!wantsValues && values.length > 0) throw new Invalid(`${at}.values`, `${name} takes no values`);
    return { key, op: OPERATORS[name], values };
  });
  return { matchLabels: labels(o.matchLabels, `${field}.matchLabels`), matchExpressions };
}
