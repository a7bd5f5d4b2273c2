// `sluice explain --live`: the compiled answer set beside one node's live
// pinned maps. Two things are compared: the maps as a whole (the ops an
// apply of the snapshot would write there, and the policy epochs), and, for
// each flow asked, the lookups the datapath makes for the sides judged on
// that node, made on the live maps (runtime/view/livePolicy.ts) against the
// compiler's (its explain export), one by one.
import * as A from '../abi/layouts.generated.ts';
import { PinnedStore } from '../bpf/maps.ts';
import { deleteCount, upsertCount } from '../maps/mapDiff.ts';
import { reconcile } from '../maps/reconcile.ts';
import { MemoryStore, type MapStore } from '../maps/store.ts';
import { liveSide, type LiveLookup, type LiveSide, type LookupFn } from '../view/livePolicy.ts';
import type { Io } from './io.ts';

/** What explain.ts gives for a flow: the parts of a side this compares. */
export interface CompiledSide { checked: boolean; isolated?: boolean; allowed?: boolean; lookups?: LiveLookup[] }
export interface FlowAsked {
  src: string; dst: string; protocol: string; port: number;
  srcNode: string; dstNode: string; exception: boolean;
  egress: CompiledSide; ingress: CompiledSide;
}

export interface Drift { side: 'egress' | 'ingress'; map: string; key: string; live: LiveLookup['found'] | 'no lookup'; compiled: LiveLookup['found'] | 'no lookup' }
export interface LiveFlow { egress?: LiveSide; ingress?: LiveSide; verdict: 'allow' | 'deny'; compiledVerdict: 'allow' | 'deny'; drift: Drift[] }
export interface LiveMaps { node: string; pinRoot: string; inSync: boolean; ops: { [map: string]: { upserts: number; deletes: number } }; epoch: { live: string | null; compiled: string | null } }
export interface Live { maps: LiveMaps; flows: LiveFlow[]; drift: boolean }

const PROTOCOLS: { [p: string]: number } = { TCP: 6, UDP: 17, SCTP: 132 };

function epochOf(store: MapStore): string | null {
  const v = store.entries('sl_polstate')[0]?.[1];
  return v ? new DataView(v.buffer, v.byteOffset).getUint32(0, true).toString(16).padStart(8, '0') : null;
}

function mapsDrift(live: PinnedStore, compiled: MemoryStore, node: string, pinRoot: string): LiveMaps {
  const ops: LiveMaps['ops'] = {};
  for (const s of reconcile(live, compiled).sections) {
    if (upsertCount(s) + deleteCount(s) > 0) ops[s.map.name] = { upserts: upsertCount(s), deletes: deleteCount(s) };
  }
  return { node, pinRoot, inSync: Object.keys(ops).length === 0, ops, epoch: { live: epochOf(live), compiled: epochOf(compiled) } };
}

/** The lookups that differ, position by position (the lists diverge once one finds what the other does not). */
function lookupsDrift(side: Drift['side'], live: LiveLookup[], compiled: LiveLookup[]): Drift[] {
  const out: Drift[] = [];
  for (let i = 0; i < Math.max(live.length, compiled.length); i++) {
    const l = live[i], c = compiled[i];
    if (l && c && l.map === c.map && l.key === c.key && l.found === c.found) continue;
    out.push({ side, map: (l ?? c).map, key: (l ?? c).key, live: l && (!c || c.key === l.key) ? l.found : 'no lookup', compiled: c && (!l || l.key === c.key) ? c.found : 'no lookup' });
    if (l && c && l.key !== c.key) out.push({ side, map: c.map, key: c.key, live: 'no lookup', compiled: c.found });
  }
  return out;
}

const denies = (s: { checked: boolean; allowed?: boolean } | undefined) => s !== undefined && s.checked && s.allowed === false;

function flowOf(look: LookupFn, node: string, f: FlowAsked): LiveFlow {
  const compiledVerdict = denies(f.egress) || denies(f.ingress) ? 'deny' : 'allow';
  if (f.exception) return { verdict: compiledVerdict, compiledVerdict, drift: [] };
  const proto = PROTOCOLS[f.protocol];
  const egress = f.srcNode === node ? liveSide(look, A.SL_DIR_EGRESS, f.src, f.dst, proto, f.port, true) : undefined;
  const ingress = f.dstNode === node ? liveSide(look, A.SL_DIR_INGRESS, f.dst, f.src, proto, f.port, true) : undefined;
  const drift = [
    ...(egress ? lookupsDrift('egress', egress.lookups, f.egress.lookups ?? []) : []),
    ...(ingress ? lookupsDrift('ingress', ingress.lookups, f.ingress.lookups ?? []) : []),
  ];
  const verdict = denies(egress ?? f.egress) || denies(ingress ?? f.ingress) ? 'deny' : 'allow';
  return { ...(egress ? { egress } : {}), ...(ingress ? { ingress } : {}), verdict, compiledVerdict, drift };
}

/** The live side of flows, judged on live.node's pinned maps; undefined (and a line on stderr) when they cannot be read. */
export function liveOf(compiledImage: () => MemoryStore, live: { node: string; pinRoot: string }, flows: readonly FlowAsked[], io: Io): Live | undefined {
  let store: PinnedStore;
  try {
    store = PinnedStore.open(live.pinRoot);
  } catch (e) {
    io.err(`sluice explain: --live: ${(e as Error).message.split('\n')[0]}\n`);
    return undefined;
  }
  try {
    const maps = mapsDrift(store, compiledImage(), live.node, live.pinRoot);
    const out = flows.map((f) => flowOf((map, key) => store.lookup(map, key), live.node, f));
    return { maps, flows: out, drift: out.some((f) => f.drift.length > 0 || f.verdict !== f.compiledVerdict) };
  } finally {
    store.close();
  }
}

const found = (x: Drift['live']) => (x === null || x === false ? 'miss' : x === true ? 'hit' : x === 'no lookup' ? 'no lookup' : JSON.stringify(x));

/** The lines for the maps as a whole (i undefined), or for flow i. */
export function liveTable(l: Live, i?: number): string {
  const m = l.maps;
  if (i === undefined) {
    const ops = Object.entries(m.ops).map(([map, o]) => `${map} +${o.upserts} -${o.deletes}`).join(', ');
    const epoch = m.epoch.live === m.epoch.compiled ? `epoch ${m.epoch.live ?? 'none (no policy)'}` : `epoch live ${m.epoch.live ?? 'none'}, compiled ${m.epoch.compiled ?? 'none'}`;
    return `live maps of ${m.node} at ${m.pinRoot}: ${m.inSync ? 'as compiled' : `differ from the compiled state (an apply would write ${ops})`}; ${epoch}\n`;
  }
  const f = l.flows[i];
  const lines: string[] = [];
  for (const side of ['egress', 'ingress'] as const) {
    const s = f[side];
    if (!s) continue;
    const what = !s.checked ? 'not a pod of this node' : !s.isolated ? 'not isolated' : s.allowed ? 'allowed' : 'isolated, no rule allows';
    lines.push(`  live ${side}${side === 'egress' ? ' ' : ''} (${m.node}): ${what}`);
  }
  lines.push(`  live verdict: ${f.verdict}${f.verdict === f.compiledVerdict ? ', as compiled' : `, compiled: ${f.compiledVerdict}`}${f.drift.length ? '' : '; every lookup finds what the compiled maps hold'}`);
  for (const d of f.drift) lines.push(`  live ${d.side} lookup ${d.map} ${d.key}: ${found(d.live)}, compiled: ${found(d.compiled)}`);
  return lines.join('\n') + '\n';
}
