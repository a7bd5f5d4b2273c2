// Named datapath scenarios (STYLE.md #8): a list of steps, each a packet
// sent through one program with what must come out, or an action between
// packets (a Service changing). Every scenario runs on a fresh Datapath.
import * as assert from 'uvu/assert';
import type { DatapathConfig } from '../../runtime/bpf/config.ts';
import { layoutOf } from '../../runtime/maps/store.ts';
import { backendsOf, forwardOf, frontendOf, maglevPick, type Backend, type Lookup, type NodeNet, type Service, type Tuple } from '../model/datapath.ts';
import { buildFrame, parseFrame, PROTO, type Frame, type Parsed } from '../model/packet.ts';
import { NODE, NODE_NETS, OBJECTS } from './cluster.ts';
import { Datapath, VERDICT_NAMES, type Program } from './harness.ts';

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
  /**
   * Forwarded by the route lookup of its destination as it leaves: the
   * verdict, MACs, TTL and SL_STAT_FWD_* counter are the ones the model's
   * lookup in the node's network gives (forwardOf). A step without it that
   * passes (TC_ACT_OK) must leave MACs and TTL as they came and count no
   * forwarding: the stack forwards it, if anyone.
   */
  routed?: boolean;
  check?: (out: Parsed, c: Ctx) => void;
}

export interface Send {
  prog: Program | ((c: Ctx) => Program);
  frame: Frame | Uint8Array | ((c: Ctx) => Frame | Uint8Array);
  expect: Expect | ((c: Ctx) => Expect);
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
  /** Its network (default NODE_NETS[node]). */
  net?: NodeNet;
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
    const got = Object.fromEntries(Object.keys(e.stats).map((k) => [k, stats[k]]));
    assert.equal(got, e.stats, `${where}: stats`);
  }
  e.check?.(out, c);
}

const FWD_STATS = { peer: 'SL_STAT_FWD_PEER', iface: 'SL_STAT_FWD_DIRECT', neigh: 'SL_STAT_FWD_NEIGH', stack: 'SL_STAT_FWD_STACK' } as const;
const fwdCounts = (stats: { [name: string]: number }) => Object.fromEntries(Object.values(FWD_STATS).map((k) => [k, stats[k]]));
const NO_FWD = Object.fromEntries(Object.values(FWD_STATS).map((k) => [k, 0]));

/** The routed check of Expect, or for a passing step that is not routed, that nothing forwarded it. */
function checkForward(e: Expect, out: Parsed, sent: Parsed, before: { [name: string]: number }, c: Ctx, where: string): void {
  if (e.verdict === 'TC_ACT_SHOT' || (!e.routed && e.verdict !== 'TC_ACT_OK')) return;
  const counts = fwdCounts(c.dp.stats()), was = fwdCounts(before);
  const delta = Object.fromEntries(Object.keys(counts).map((k) => [k, counts[k] - was[k]]));
  const unforwarded = () => assert.equal([out.dstMac, out.srcMac, out.ip.ttl], [sent.dstMac, sent.srcMac, sent.ip.ttl], `${where}: MACs and TTL as they came`);
  if (!e.routed) {
    assert.equal(delta, NO_FWD, `${where}: forwarded by nobody but the stack`);
    unforwarded();
    return;
  }
  const f = forwardOf(c.dp.net, out.ip.dst, sent.ip.ttl, out.ip.totLen);
  assert.equal(delta, { ...NO_FWD, [FWD_STATS[f.via]]: 1 }, `${where}: the model says ${JSON.stringify(f)}`);
  if (f.via === 'stack') {
    assert.is(e.verdict, 'TC_ACT_OK', `${where}: to the stack (${f.why})`);
    unforwarded();
    return;
  }
  assert.is(e.verdict, 'TC_ACT_REDIRECT', `${where}: forwarded (${f.via} ${f.dev})`);
  assert.is(out.ip.ttl, sent.ip.ttl - 1, `${where}: TTL one less`);
  if (f.via === 'neigh') assert.equal([out.dstMac, out.srcMac], [sent.dstMac, sent.srcMac], `${where}: L2 left to the neighbour code`);
  else assert.equal([out.dstMac, out.srcMac], [f.dstMac, f.srcMac], `${where}: to the next hop's MAC, from ${f.dev}'s`);
}

// One loaded datapath per node and config, reset between scenarios: a load
// costs the verifier's time for every program, a reset a few map operations.
const loaded = new Map<string, Datapath>();

function datapathFor(node: string, net: NodeNet, config: Partial<DatapathConfig> | undefined): Datapath {
  const key = JSON.stringify([node, net, config ?? {}]);
  const dp = loaded.get(key);
  if (dp) {
    dp.reset(OBJECTS);
    return dp;
  }
  const fresh = new Datapath({ objects: OBJECTS, node, net, config });
  loaded.set(key, fresh);
  return fresh;
}

/** Closes every datapath runScenario loaded (a suite's after hook). */
export function closeDatapaths(): void {
  for (const dp of loaded.values()) dp.close();
  loaded.clear();
}

/** Runs a scenario on a datapath holding the test cluster's maps and nothing else. */
export function runScenario(s: Scenario): void {
  const node = s.node ?? NODE;
  const dp = datapathFor(node, s.net ?? NODE_NETS[node], s.config);
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
    const expect = typeof step.expect === 'function' ? step.expect(c) : step.expect;
    const before = dp.stats();
    const r = dp.run(prog, bytes);
    assert.is(VERDICT_NAMES[r.verdict] ?? `verdict ${r.verdict}`, expect.verdict, `${where}: verdict`);
    let out: Parsed;
    try {
      out = parseFrame(r.frame);
    } catch (e) {
      if (expect.verdict !== 'TC_ACT_SHOT') throw e;
      out = undefined as unknown as Parsed; // a dropped runt: nothing to read
    }
    c.sent.push(bytes);
    c.outs.push(out);
    c.raw.push(r.frame);
    checkOut(expect, out, bytes, r.frame, c, where);
    if (out) checkForward(expect, out, parseFrame(bytes), before, c, where);
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
