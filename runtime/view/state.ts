// The datapath-owned maps as `sluice maps` shows them: sl_stats summed over
// CPUs by enum sl_stat and enum sl_drop name, and sl_ct as tuple ->
// rewritten tuple. Pure:
// entries in, rows out; the caller reads the maps and the clock.
import * as A from '../abi/layouts.generated.ts';
import type { MapLayout } from '../abi/mapLayout.ts';
import { u64Reader, uintReader } from '../abi/fieldReader.ts';
import { textOf } from '../encode/ipv4.ts';

type Entries = readonly (readonly [Uint8Array, Uint8Array])[];

const stateLayout = (name: A.MapName): MapLayout => {
  const l = A.STATE_MAPS.find((m) => m.name === name);
  if (!l) throw new Error(`no datapath map named ${name}: runtime/abi is out of date, run npm run gen`);
  return l;
};

/** sl_stats slot -> the name of what it counts: each enum sl_stat at its value, then each enum sl_drop at its negation. */
export const STAT_NAMES: ReadonlyMap<number, string> = new Map([
  ...[...A.SL_STAT_NAMES].filter(([v]) => v !== A.SL_STAT_MAX),
  ...[...A.SL_DROP_NAMES].map(([v, name]) => [-v, name] as const),
]);

/** Whether a stat name is a drop reason (enum sl_drop), not a counter. */
export const isDrop = (name: string) => DROP_NAMES.has(name);
const DROP_NAMES = new Set(A.SL_DROP_NAMES.values());

export interface Counter { packets: number; bytes: number }

/** Every counter and drop by name, in enum order; per-CPU values (slots of roundup(size, 8) bytes) summed. */
export function statsOf(entries: Entries): { [stat: string]: Counter } {
  const l = stateLayout('sl_stats');
  const stat = uintReader(l.key, 'stat'), packets = u64Reader(l.value, 'packets'), bytes = u64Reader(l.value, 'bytes');
  const slot = Math.ceil(l.value.size / 8) * 8;
  const sums = new Map<number, { packets: bigint; bytes: bigint }>();
  for (const [k, v] of entries) {
    const s = { packets: 0n, bytes: 0n };
    for (let at = 0; at + l.value.size <= v.length; at += slot) {
      s.packets += packets(v, at);
      s.bytes += bytes(v, at);
    }
    sums.set(stat(k), s);
  }
  const out: { [stat: string]: Counter } = {};
  for (const [n, name] of STAT_NAMES) {
    const s = sums.get(n);
    out[name] = { packets: Number(s?.packets ?? 0n), bytes: Number(s?.bytes ?? 0n) };
  }
  return out;
}

export interface Tuple { saddr: string; sport: number; daddr: string; dport: number }
export interface CtEntry {
  protocol: string;
  tuple: Tuple; // as the packet arrives
  rewrite: Tuple; // what the datapath writes into it
  state: string; // enum sl_ct_state without SL_CT_
  flags: string[]; // enum sl_ct_flag names without SL_CT_
  bset: number;
  backend: number;
  secondsLeft: number; // until expiry; negative: expired, not yet evicted
}

const PROTOCOLS: { [proto: number]: string } = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 132: 'SCTP' };
// enum sl_ct_state and enum sl_ct_flag share the SL_CT_ prefix: the four
// states are named here, every other SL_CT_ constant is a flag bit.
const CT_STATES = new Map([[A.SL_CT_NEW, 'NEW'], [A.SL_CT_ESTABLISHED, 'ESTABLISHED'], [A.SL_CT_CLOSING, 'CLOSING'], [A.SL_CT_CLOSED, 'CLOSED']]);
const CT_FLAGS: [number, string][] = Object.entries(A)
  .filter(([k, v]) => k.startsWith('SL_CT_') && typeof v === 'number' && ![...CT_STATES.values()].includes(k.slice(6)))
  .map(([k, v]) => [v as number, k.slice(6)] as [number, string]).sort((a, b) => a[0] - b[0]);

/** sl_ct entries in key order; nowNs is bpf_ktime_get_ns()'s clock (CLOCK_MONOTONIC) now. */
export function conntrackOf(entries: Entries, nowNs: bigint): CtEntry[] {
  const l = stateLayout('sl_ct');
  const tuple = (s: typeof l.key) => {
    const [saddr, daddr, sport, dport] = ['saddr', 'daddr', 'sport', 'dport'].map((f) => uintReader(s, f));
    return (b: Uint8Array): Tuple => ({ saddr: textOf(saddr(b)), sport: sport(b), daddr: textOf(daddr(b)), dport: dport(b) });
  };
  const key = tuple(l.key), value = tuple(l.value), proto = uintReader(l.key, 'proto');
  const [state, flags, bset, backend] = ['state', 'flags', 'bset', 'backend'].map((f) => uintReader(l.value, f));
  const expires = u64Reader(l.value, 'expires');
  return entries.map(([k, v]) => ({
    protocol: PROTOCOLS[proto(k)] ?? `proto ${proto(k)}`,
    tuple: key(k),
    rewrite: value(v),
    state: CT_STATES.get(state(v)) ?? `state ${state(v)}`,
    flags: flagNames(flags(v)),
    bset: bset(v),
    backend: backend(v),
    secondsLeft: Number((expires(v) - nowNs) / 1_000_000_000n),
  }));
}

/** Known bits by name, unknown ones in hex. */
function flagNames(bits: number): string[] {
  const names = CT_FLAGS.filter(([bit]) => bits & bit).map(([, name]) => name);
  const rest = CT_FLAGS.reduce((b, [bit]) => b & ~bit, bits);
  return rest ? [...names, `0x${rest.toString(16)}`] : names;
}

const endpoint = (ip: string, port: number) => `${ip}:${port}`;
export const tupleText = (t: Tuple) => `${endpoint(t.saddr, t.sport)} -> ${endpoint(t.daddr, t.dport)}`;
