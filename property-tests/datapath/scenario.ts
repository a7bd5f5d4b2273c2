// Named datapath scenarios (STYLE.md #8): a list of steps, each a packet
// sent through one program with what must come out, or an action between
// packets (a Service changing). Every scenario runs on a fresh Datapath.
import * as assert from 'uvu/assert';
import type { DatapathConfig } from '../../runtime/bpf/config.ts';
import { layoutOf } from '../../runtime/maps/store.ts';
import { backendsOf, frontendOf, maglevPick, type Backend, type Lookup, type Service, type Tuple } from '../model/datapath.ts';
import { buildFrame, parseFrame, PROTO, type Frame, type Parsed } from '../model/packet.ts';
import { NODE, OBJECTS } from './cluster.ts';
import { Datapath, STAT_NAMES, VERDICT_NAMES, type Program } from './harness.ts';

export type Verdict = 'TC_ACT_OK' | 'TC_ACT_SHOT' | 'TC_ACT_REDIRECT';

export interface Ctx {
  dp: Datapath;
  /** Parsed output of each packet step so far, in order. */
  outs: Parsed[];
  /** The same outputs as the bytes the program left. */
  raw: Uint8Array[];
  /** The frames sent so far, in order. */
  sent: Uint8Array[];
  /** The kernel's maps as a model Lookup. */
  lookup: Lookup;
  /** Values a step keeps for later ones. */
  memo: { [name: string]: unknown };
}

export interface Expect {
  verdict: Verdict;
  /** The frame leaves exactly as it came. */
  unchanged?: boolean;
  src?: string | readonly string[]; // one of
  dst?: string | readonly string[];
  sport?: number | ((port: number) => boolean);
  dport?: number;
  /** Totals of these enum sl_stat counters after the step (others unchecked). */
  stats?: { [stat: string]: number };
  check?: (out: Parsed, c: Ctx) => void;
}

export interface Send {
  prog: Program | ((c: Ctx) => Program);
  frame: Frame | Uint8Array | ((c: Ctx) => Frame | Uint8Array);
  expect: Expect;
}

export interface Act {
  act: string; // what happens, for failure messages
  run: (c: Ctx) => void;
}

export type Step = Send | Act;

export interface Scenario {
  name: string;
  /** The node whose maps the datapath holds (default NODE, n1). */
  node?: string;
  config?: Partial<DatapathConfig>;
  steps: Step[];
}

const oneOf = (want: string | readonly string[], got: string) => (typeof want === 'string' ? want === got : want.includes(got));

function checkOut(e: Expect, out: Parsed, sent: Uint8Array, result: Uint8Array, c: Ctx, where: string): void {
  if (e.unchanged) assert.equal(Buffer.from(result).toString('hex'), Buffer.from(sent).toString('hex'), `${where}: frame unchanged`);
  if (e.verdict !== 'TC_ACT_SHOT' && !e.unchanged) {
    assert.ok(out.ip.checksumOk, `${where}: IP checksum valid`);
    assert.ok(out.l4.checksumOk, `${where}: L4 checksum valid`);
  }
  if (e.src !== undefined) assert.ok(oneOf(e.src, out.ip.src), `${where}: source ${out.ip.src}, want ${e.src}`);
  if (e.dst !== undefined) assert.ok(oneOf(e.dst, out.ip.dst), `${where}: destination ${out.ip.dst}, want ${e.dst}`);
  if (typeof e.sport === 'number') assert.is(out.l4.sport, e.sport, `${where}: source port`);
  if (typeof e.sport === 'function') assert.ok(e.sport(out.l4.sport!), `${where}: source port ${out.l4.sport}`);
  if (e.dport !== undefined) assert.is(out.l4.dport, e.dport, `${where}: destination port`);
  if (e.stats) {
    const stats = c.dp.stats();
    const got = Object.fromEntries(Object.keys(e.stats).map((k) => [k, stats[STAT_NAMES.indexOf(k)]]));
    assert.equal(got, e.stats, `${where}: stats`);
  }
  e.check?.(out, c);
}

// One loaded datapath per node and config, reset between scenarios: a load
// costs the verifier's time for every program, a reset a few map operations.
const loaded = new Map<string, Datapath>();

function datapathFor(node: string, config: Partial<DatapathConfig> | undefined): Datapath {
  const key = JSON.stringify([node, config ?? {}]);
  const dp = loaded.get(key);
  if (dp) {
    dp.reset(OBJECTS);
    return dp;
  }
  const fresh = new Datapath({ objects: OBJECTS, node, config });
  loaded.set(key, fresh);
  return fresh;
}

/** Closes every datapath runScenario loaded (a suite's after hook). */
export function closeDatapaths(): void {
  for (const dp of loaded.values()) dp.close();
  loaded.clear();
}

export interface RunOptions {
  /** Runs each program run inside it (say, in another network namespace). */
  around?: <T>(fn: () => T) => T;
}

/** Runs a scenario on a datapath holding the test cluster's maps and nothing else. */
export function runScenario(s: Scenario, o: RunOptions = {}): void {
  const dp = datapathFor(s.node ?? NODE, s.config);
  const c: Ctx = { dp, outs: [], raw: [], sent: [], memo: {}, lookup: (map, key) => dp.lookup(map, key, layoutOf(map).value.size) };
  s.steps.forEach((step, i) => {
    if ('act' in step) {
      step.run(c);
      return;
    }
    const prog = typeof step.prog === 'function' ? step.prog(c) : step.prog;
    const f = typeof step.frame === 'function' ? step.frame(c) : step.frame;
    const bytes = f instanceof Uint8Array ? f : buildFrame(f);
    const where = `step ${i + 1} (${prog})`;
    const r = o.around ? o.around(() => dp.run(prog, bytes)) : dp.run(prog, bytes);
    assert.is(VERDICT_NAMES[r.verdict] ?? `verdict ${r.verdict}`, step.expect.verdict, `${where}: verdict`);
    let out: Parsed;
    try {
      out = parseFrame(r.frame);
    } catch (e) {
      if (step.expect.verdict !== 'TC_ACT_SHOT') throw e;
      out = undefined as unknown as Parsed; // a dropped runt: nothing to read
    }
    c.sent.push(bytes);
    c.outs.push(out);
    c.raw.push(r.frame);
    checkOut(step.expect, out, bytes, r.frame, c, where);
  });
}

/** The service a tuple addresses, from the kernel's maps. */
export function serviceOf(c: Ctx, t: Tuple, inCluster = true): Service {
  const s = frontendOf(c.lookup, t, inCluster);
  if (!s) throw new Error(`no frontend ${t.daddr}:${t.dport}/${t.proto}`);
  return s;
}

/** The backend the model picks for a new flow (no affinity). */
export function modelPick(c: Ctx, t: Tuple, inCluster = true): Backend {
  const be = maglevPick(c.lookup, serviceOf(c, t, inCluster), t);
  if (!be) throw new Error(`model: no backend for ${JSON.stringify(t)}`);
  return be;
}

export const backendIps = (c: Ctx, t: Tuple) => backendsOf(c.lookup, serviceOf(c, t)).map((b) => b.ip);

export const tuple = (saddr: string, daddr: string, sport: number, dport: number, proto: 'tcp' | 'udp' = 'tcp'): Tuple =>
  ({ saddr, daddr, sport, dport, proto: proto === 'tcp' ? PROTO.TCP : PROTO.UDP });

/** The client-side entry of a flow (key = its tuple), or undefined. */
export const ctEntry = (c: Ctx, t: Tuple) => c.dp.ct().find((e) =>
  e.key.saddr === t.saddr && e.key.daddr === t.daddr && e.key.sport === t.sport && e.key.dport === t.dport && e.key.proto === t.proto);
