// sluice explain: whether NetworkPolicy allows a flow, and why, from the
// compiled state of the nodes involved (the WASM compiler's explain export:
// compiler/policy/explain.ts), not from a second evaluator. The source's
// egress is judged on its node, the destination's ingress on its node.
import { parseArgs } from 'node:util';
import * as R from '../../compiler/abi/records.ts';
import { formatIp } from '../encode/ip.ts';
import { parseU32 } from '../encode/ipv4.ts';
import { compareFindings } from '../encode/records.ts';
import { encodeRecords, type PodBody, type Upsert } from '../encode/schema.ts';
import { MemoryStore } from '../maps/store.ts';
import { loadSnapshot, snapshotEvents } from '../sources/snapshot.ts';
import { recordsOf, upserts } from '../streams/recordsOf.ts';
import { viewOf } from '../view/frontends.ts';
import { Compiler } from '../wasm/host.ts';
import { UsageError, type Io } from './io.ts';
import { DEFAULT_PIN_ROOT } from '../bpf/bpffs.ts';
import { liveOf, liveTable, type CompiledSide, type FlowAsked, type Live } from './explainLive.ts';

export const EXPLAIN_USAGE = `usage: sluice explain <file>... --from NS/POD|IP --to NS/POD|IP|NS/SERVICE --port N
                      [--protocol TCP|UDP|SCTP] [--node NAME] [--live [--pin-root DIR]] [--format table|json]
       sluice explain <file>... --matrix [--namespace NS,...] --port N[,N...]
                      [--protocol P[,P...]] [--live --node NAME [--pin-root DIR]] [--format table|json]

Says whether NetworkPolicy allows a flow in a cluster snapshot, and why: who
each address is (a Service stands for its backends), for each side whether
its pod is isolated and which rules allow the flow (ns/name ingress[0]), or
the rules that miss it only by the peer or only by the port, and the map
keys the datapath looks up. The source's egress is judged on the source's
node, the destination's ingress on the destination's; --node judges both on
one node. --matrix judges every ordered pair of pods.

--live also reads node NAME's pinned maps (at --pin-root, default
${DEFAULT_PIN_ROOT}; as root): whether they hold what the snapshot compiles to
(the ops an apply would write), and for each side judged on NAME the same
lookups made on them, with every one whose result differs from the
compiled maps'. Each side is still judged on its own pod's node; only NAME's
are read live.

Exit status: 0 when it answered (whatever the verdict), 1 when the input had
rejected objects, 2 on a usage error or an unknown pod, 3 with --live when a
lookup of the flows asked finds something else in the live maps than in the
compiled ones (or the live maps cannot be read).
`;

const PROTOCOLS: { [p: string]: number } = { TCP: R.PROTO_TCP, UDP: R.PROTO_UDP, SCTP: R.PROTO_SCTP };

interface Side { checked: boolean; isolated?: boolean; allowed?: boolean; allowedBy?: string[]; misses?: unknown[]; [k: string]: unknown }

export interface Cluster {
  records: Upsert[];
  rejected: { object: string; field: string; reason: string }[];
  objects: unknown[];
  pods: Map<string, { ip: string; node: string }>; // networked pods by ns/name
  compilers: Map<string, Compiler>;
  batch: Uint8Array;
}

const isIp = (s: string) => /^\d+\.\d+\.\d+\.\d+$/.test(s);

function load(files: string[]): Cluster {
  const snap = loadSnapshot(files);
  return loadObjects(snap.objects, snap.rejected);
}

/** A cluster to explain flows in, from objects already parsed. */
export function loadObjects(objects: unknown[], rejected: Cluster['rejected'] = []): Cluster {
  const set = recordsOf(snapshotEvents(objects));
  const records = upserts(set.records);
  const pods = new Map<string, { ip: string; node: string }>();
  for (const r of records) {
    if (r.kind !== R.KIND_POD) continue;
    const b = r.body as PodBody;
    if (b.podIPs.length === 0 || (b.flags & (R.PODF_HOST_NETWORK | R.PODF_TERMINAL)) !== 0) continue;
    pods.set(`${r.namespace}/${r.name}`, { ip: formatIp(b.podIPs[0]), node: b.nodeName });
  }
  return {
    records, rejected: [...rejected, ...set.rejected].sort(compareFindings), objects, pods,
    compilers: new Map(), batch: encodeRecords(set.records),
  };
}

function compilerFor(c: Cluster, node: string): Compiler {
  let x = c.compilers.get(node);
  if (!x) {
    x = new Compiler({ node });
    x.batch(c.batch);
    c.compilers.set(node, x);
  }
  return x;
}

/** The node's whole compiled image, as a store. */
function compiledImage(c: Cluster, node: string): MemoryStore {
  const store = new MemoryStore();
  store.apply(compilerFor(c, node).rebuild());
  return store;
}

/** A flow explained, as --live compares it. */
const asked = (c: Cluster, e: Explained, src: string, dst: string): FlowAsked => ({
  src, dst, protocol: e.protocol, port: e.port, srcNode: nodeOfIp(c, src) ?? '', dstNode: nodeOfIp(c, dst) ?? '',
  exception: e.exception !== undefined, egress: e.egress as CompiledSide, ingress: e.ingress as CompiledSide,
});

function nodeOfIp(c: Cluster, ip: string): string | undefined {
  for (const p of c.pods.values()) if (p.ip === ip) return p.node;
  return undefined;
}

export interface Explained {
  from: unknown; to: unknown; port: number; protocol: string; verdict: 'allow' | 'deny';
  egress: Side; ingress: Side; exception?: string; service?: string;
}

/** One flow between two addresses. */
export function explainFlow(c: Cluster, src: string, dst: string, proto: string, port: number, node?: string): Explained {
  const p = PROTOCOLS[proto];
  const srcNode = node ?? nodeOfIp(c, src) ?? '', dstNode = node ?? nodeOfIp(c, dst) ?? '';
  const who = (ip: string, n: string) => compilerFor(c, n).explain(parseU32(ip), 0, 'who', 0, 0);
  const notChecked: Side = { checked: false };
  if (src === dst) {
    return { from: who(src, srcNode), to: who(dst, dstNode), port, protocol: proto, verdict: 'allow', egress: notChecked, ingress: notChecked, exception: 'a pod can always reach itself' };
  }
  const egress = (srcNode ? compilerFor(c, srcNode).explain(parseU32(src), parseU32(dst), 'egress', p, port) : notChecked) as Side;
  const ingress = (dstNode ? compilerFor(c, dstNode).explain(parseU32(dst), parseU32(src), 'ingress', p, port) : notChecked) as Side;
  const ok = (s: Side) => !s.checked || s.allowed === true;
  return {
    from: srcNode ? egress.self : who(src, dstNode), to: dstNode ? ingress.self : who(dst, srcNode),
    port, protocol: proto, verdict: ok(egress) && ok(ingress) ? 'allow' : 'deny', egress, ingress,
  };
}

/** --to as addresses: a pod, an address, or a Service's backends (with their ports). */
function targets(c: Cluster, to: string, port: number, proto: string): { ip: string; port: number; service?: string }[] | undefined {
  if (isIp(to)) return [{ ip: to, port }];
  if (c.pods.has(to)) return [{ ip: c.pods.get(to)!.ip, port }];
  const nodes = c.records.filter((r) => r.kind === R.KIND_NODE).map((r) => r.name);
  const compiler = compilerFor(c, nodes[0] ?? '');
  const store = new MemoryStore();
  store.apply(compiler.rebuild());
  const view = viewOf(store, { node: nodes[0] ?? null, rejected: [], notes: [] });
  const fronts = view.frontends.filter((f) => f.service === to && f.type === 'ClusterIP' && f.port === port && f.protocol === proto);
  if (fronts.length === 0) return undefined;
  return fronts.flatMap((f) => f.backends.map((b) => ({ ip: b.ip, port: b.port, service: `${to} ${f.ip}:${f.port}/${proto}` })));
}

function side(s: Side): string {
  if (!s.checked) return 'not a pod: nothing to check';
  if (!s.isolated) return 'not isolated (no policy selects the pod for this direction): allowed';
  if (s.allowed) return `allowed by ${(s.allowedBy ?? []).join(', ')}`;
  const misses = (s.misses ?? []) as { rule: string; matched: string; missed: string }[];
  return `isolated, no rule allows${misses.length ? `; nearest: ${misses.map((m) => `${m.rule} (${m.matched} matches, ${m.missed} does not)`).join(', ')}` : ''}`;
}

function table(e: Explained): string {
  const name = (x: unknown) => { const o = x as { pod?: string | null; address: string }; return o.pod ? `${o.pod} (${o.address})` : o.address; };
  const lines = [`${name(e.from)} -> ${name(e.to)} ${e.port}/${e.protocol}${e.service ? ` via ${e.service}` : ''}: ${e.verdict}${e.exception ? ` (${e.exception})` : ''}`];
  lines.push(`  egress:  ${side(e.egress)}`, `  ingress: ${side(e.ingress)}`);
  for (const [n, s] of [['egress', e.egress], ['ingress', e.ingress]] as const) {
    for (const l of ((s.lookups ?? []) as { map: string; key: string; found: unknown }[])) lines.push(`  ${n} lookup ${l.map} ${l.key}: ${l.found === null || l.found === false ? 'miss' : l.found === true ? 'hit' : l.found}`);
  }
  return lines.join('\n') + '\n';
}

interface ExplainArgs {
  files: string[]; from?: string; to?: string; ports: number[]; protocols: string[]; node?: string; format: 'table' | 'json'; matrix: boolean;
  namespaces?: string[];
  live?: { node: string; pinRoot: string };
}

function parse(args: readonly string[]): ExplainArgs | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args], allowPositionals: true,
      options: {
        from: { type: 'string' }, to: { type: 'string' }, port: { type: 'string' }, protocol: { type: 'string', default: 'TCP' },
        node: { type: 'string' }, format: { type: 'string', default: 'table' }, matrix: { type: 'boolean' },
        namespace: { type: 'string' }, live: { type: 'boolean' }, 'pin-root': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  const v = parsed.values;
  if (v.help) return undefined;
  if (parsed.positionals.length === 0) throw new UsageError('no input files');
  if (v.format !== 'table' && v.format !== 'json') throw new UsageError(`--format must be table or json, not "${v.format}"`);
  if (v.port === undefined) throw new UsageError('--port is required');
  const ports = v.port.split(',').map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--port: "${p}" is not a port (1-65535)`);
    return n;
  });
  const protocols = v.protocol.split(',').map((p) => {
    if (!(p in PROTOCOLS)) throw new UsageError(`--protocol: "${p}" is not TCP, UDP or SCTP`);
    return p;
  });
  if (v['pin-root'] !== undefined && !v.live) throw new UsageError('--pin-root goes with --live');
  if (v.live && !v.node) throw new UsageError('--live needs --node: the node whose pinned maps to read');
  const live = v.live ? { node: v.node!, pinRoot: v['pin-root'] ?? DEFAULT_PIN_ROOT } : undefined;
  if (v.matrix) {
    if (v.from || v.to) throw new UsageError('--matrix takes no --from or --to');
    if (v.node && !v.live) throw new UsageError('--matrix judges each side on its own node: --node goes with --live');
    return { files: parsed.positionals, ports, protocols, format: v.format, matrix: true, namespaces: v.namespace?.split(','), live };
  }
  if (!v.from || !v.to) throw new UsageError('--from and --to are required (or --matrix)');
  if (ports.length > 1 || protocols.length > 1) throw new UsageError('one --port and one --protocol for one flow; lists are for --matrix');
  return { files: parsed.positionals, from: v.from, to: v.to, ports, protocols, node: live ? undefined : v.node, format: v.format, matrix: false, live };
}

export function explainCommand(args: readonly string[], io: Io): number {
  const a = parse(args);
  if (!a) {
    io.out(EXPLAIN_USAGE);
    return 0;
  }
  const c = load(a.files);
  const status = c.rejected.length > 0 ? 1 : 0;
  for (const r of c.rejected) io.err(`sluice explain: rejected ${r.object}: ${r.field}: ${r.reason}\n`);
  if (a.matrix) return matrix(c, a, io) ?? status;
  const src = isIp(a.from!) ? a.from! : c.pods.get(a.from!)?.ip;
  if (!src) {
    io.err(`sluice explain: no pod ${a.from} with an address in the input\n`);
    return 2;
  }
  const dsts = targets(c, a.to!, a.ports[0], a.protocols[0]);
  if (!dsts) {
    io.err(`sluice explain: no pod ${a.to}, and no Service ${a.to} with port ${a.ports[0]}/${a.protocols[0]}, in the input\n`);
    return 2;
  }
  const out: (Explained & { live?: unknown })[] = dsts.map((d) => ({ ...explainFlow(c, src, d.ip, a.protocols[0], d.port, a.node), ...(d.service ? { service: d.service } : {}) }));
  let live: Live | undefined;
  if (a.live) {
    live = liveOf(() => compiledImage(c, a.live!.node), a.live, out.map((e, i) => asked(c, e, src, dsts[i].ip)), io);
    if (!live) return 3;
    out.forEach((e, i) => (e.live = live!.flows[i]));
  }
  if (a.format === 'json') io.out(JSON.stringify(out.length === 1 ? out[0] : { flows: out, ...(live ? { live: live.maps } : {}) }) + '\n');
  else io.out((live ? liveTable(live) : '') + out.map((e, i) => table(e) + (live ? liveTable(live, i) : '')).join(''));
  return live?.drift ? 3 : status;
}

function matrix(c: Cluster, a: ExplainArgs, io: Io): number | undefined {
  const names = [...c.pods.keys()].filter((p) => !a.namespaces || a.namespaces.includes(p.split('/')[0])).sort();
  const verdicts: { from: string; to: string; port: number; protocol: string; verdict: string; egress: unknown; ingress: unknown }[] = [];
  const flows: FlowAsked[] = [];
  const brief = (s: Side) => ({ isolated: s.checked ? s.isolated === true : false, allowedBy: s.allowedBy ?? [] });
  for (const protocol of a.protocols) {
    for (const port of a.ports) {
      for (const from of names) {
        for (const to of names) {
          const [src, dst] = [c.pods.get(from)!.ip, c.pods.get(to)!.ip];
          const e = explainFlow(c, src, dst, protocol, port);
          verdicts.push({ from, to, port, protocol, verdict: e.verdict, egress: brief(e.egress), ingress: brief(e.ingress) });
          if (a.live) flows.push(asked(c, e, src, dst));
        }
      }
    }
  }
  const live = a.live && liveOf(() => compiledImage(c, a.live!.node), a.live, flows, io);
  if (a.live && !live) return 3;
  const differing = live ? verdicts.flatMap((v, i) => {
    const f = live.flows[i];
    return f.drift.length || f.verdict !== f.compiledVerdict ? [{ from: v.from, to: v.to, port: v.port, protocol: v.protocol, ...f }] : [];
  }) : [];
  if (a.format === 'json') {
    io.out(JSON.stringify({ verdicts, ...(live ? { live: { ...live.maps, differing } } : {}) }) + '\n');
    return live?.drift ? 3 : undefined;
  }
  const w = Math.max(...names.map((n) => n.length), 4);
  const parts: string[] = [];
  for (const protocol of a.protocols) {
    for (const port of a.ports) {
      const rows = [`${port}/${protocol}  (rows: from, columns: to; . allowed, X denied)`, `${''.padEnd(w)}  ${names.map((n) => n.padEnd(w)).join(' ').trimEnd()}`];
      for (const from of names) {
        const cells = names.map((to) => (verdicts.find((v) => v.from === from && v.to === to && v.port === port && v.protocol === protocol)!.verdict === 'allow' ? '.' : 'X').padEnd(w));
        rows.push(`${from.padEnd(w)}  ${cells.join(' ').trimEnd()}`);
      }
      parts.push(rows.join('\n') + '\n');
    }
  }
  if (live) {
    const judged = live.flows.filter((f) => f.egress || f.ingress).length;
    const lines = [liveTable(live).trimEnd(), differing.length === 0
      ? `live: the ${judged} flows with a side on ${a.live!.node} find in its maps what they find in the compiled ones`
      : `live: ${differing.length} of the ${judged} flows with a side on ${a.live!.node} find something else in its maps:`];
    for (const d of differing) {
      lines.push(`  ${d.from} -> ${d.to} ${d.port}/${d.protocol}: live ${d.verdict}, compiled ${d.compiledVerdict}`);
      for (const x of d.drift) lines.push(`    ${x.side} lookup ${x.map} ${x.key}: live ${JSON.stringify(x.live)}, compiled ${JSON.stringify(x.compiled)}`);
    }
    parts.push(lines.join('\n') + '\n');
  }
  io.out(parts.join('\n'));
  return live?.drift ? 3 : undefined;
}
