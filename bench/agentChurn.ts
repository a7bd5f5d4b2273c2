// The agent at scale (issue 12), after the Calico eBPF announcement's test:
// the cluster of testkit/scaleCluster.ts (5,000 Services x 5 endpoints, 10,000 Pods
// in 500 Namespaces, 1,000 NetworkPolicies) served by the fake API server in
// a process of its own; the agent (`sluice run`, a child process, --min-sync
// 1s, started as the image starts it: Node's compile cache on) syncs; then
// idle, then a Service's slice, a Pod and a NetworkPolicy changing once a
// second each in turn, then idle again. Measured from outside (/proc): the
// agent's whole-process CPU from exec until ready (its `synced` line: the
// first full sync is in the maps), its RSS ten seconds later, the CPU of
// each change (its threads' CPU to the nanosecond: a phase is a few 10 ms
// ticks of /proc's). With --dry-run and (as root) on real pinned maps. Then how
// RSS grows with the cluster: the agent on three smaller clusters (half,
// and half with either the Pods or the Services doubled), per Pod and per
// Service, beside the bytes of their normalized records. Beside it all,
// kube-proxy's costs on this machine in the same run: the baselines' sync
// script (`../shared/baselines/02_sync_cost.sh` from the repository root),
// iptables-legacy-restore of the same 5,000 Services' whole ruleset, and
// nftables' and iptables' partial syncs of one changed Service.
//
// CHURN_USAGE has the flags.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { removePinRoot } from '../runtime/bpf/bpffs.ts';
import { normalize } from '../runtime/encode/records.ts';
import { encodeRecords } from '../runtime/encode/schema.ts';
import { tryRun } from '../runtime/exec/command.ts';
import { addNetns, deleteNetns } from '../runtime/exec/namespaces.ts';
import { JSON_TYPE } from '../runtime/sources/protoSchema.ts';
import { ISSUE_12, pod, service, slice, type ClusterSize } from '../testkit/scaleCluster.ts';
import type { ChurnKind } from './apiServerProcess.ts';
import { ensureCommands } from './datapath/setup.ts';
import { AgentProcess, cpuOf, rssOf, ServerProcess, sleep, threadsCpuOf } from './processes.ts';
import { median, table } from './stats.ts';

/** The kube-proxy baselines, found from the repository: ../shared/baselines beside its root. */
const BASELINES = '../shared/baselines';
const ROOT = new URL('..', import.meta.url).pathname;

export const CHURN_USAGE = `usage: npm run bench -- churn [flags]

The agent (sluice run) on issue 12's cluster (5,000 Services x 5, 10,000 Pods
in 500 Namespaces, 1,000 NetworkPolicies): CPU to ready, full sync, RSS ten
seconds after ready, CPU per Service, Pod and policy change; RSS per Pod and
per Service; beside kube-proxy's restore and partial syncs, run live.

  --idle S                seconds idle before and after the churn (default 30)
  --warmup N              changes of each kind first, one a second, reported apart and
                          not counted: the first changes after a start pay V8's
                          compiling of their path (default 10)
  --churn S               seconds of each kind's churn, one change a second (default 30)
  --modes A,B             dry-run,pinned (default both; pinned needs root), or
                          dry-run-json: --dry-run, lists and watches in JSON
                          (--kube-api-content-type application/json)
  --starts N              fresh starts of each mode to ready, the churned one
                          among them; CPU to ready is their median (default 5)
  --sizing yes|no         RSS on three smaller clusters, per Pod and per Service (default yes)
  --baseline live|skip    kube-proxy's sync script run now (root) or not (default live)
  --baseline-dir DIR      the kube-proxy baseline kit, 02_sync_cost.sh (default
                          ${BASELINES}, from the repository's root)
  --baseline-timeout S    the live baseline's bound (default 900)
`;

const KINDS: ChurnKind[] = ['service', 'pod', 'policy'];

/** cpu: the agent's threads' CPU over the phase; perSecond: over each second that holds one change (see secondsCpu). */
interface Phase { kind: ChurnKind; cpu: number; seconds: number; changes: number; batches: number; ops: number; applyMs: number[]; perSecond: number[] }
/** One fresh start's CPU (s): to ready, until it began to list, the full sync. */
interface Start { readyCpu: number; startCpu: number; syncCpu: number }

interface ModeResult {
  mode: string; startCpu: number; readyCpu: number; syncCpu: number; syncMs: number; rss10: number; releaseCpu: number;
  /** Every fresh start of the mode, this one first; readyCpu, startCpu and syncCpu are their medians. */
  starts: Start[];
  idleRate: number; exit: number | null;
  /** The changes measured, after the warm-up's (not counted: V8 compiles the change path as the first changes take it). */
  warmup: Phase[]; phases: Phase[];
  /** The agent's 'compiler heap released' line (or 'skipped'), logged after ready. */
  compilerHeap?: { [k: string]: unknown };
  /** Pinned: a second agent started on the pins the first left (its programs attached, its maps full). */
  restart?: Start & { applied: number };
}

type Mode = 'dry-run' | 'dry-run-json' | 'pinned';
interface Options { idle: number; warmup: number; churn: number; starts: number }
const MODES: readonly Mode[] = ['dry-run', 'dry-run-json', 'pinned'];

/**
 * The agent's threads' CPU in each second from t0 + 0.5 s to t0 + count - 0.5 s. The
 * server makes change k at about t0 + k s, so each of these count - 1 seconds holds one
 * change and its batch: their median is a change's cost that one collection or a
 * neighbour's burst in the run does not move, beside the phase's mean.
 */
async function secondsCpu(pid: number, t0: number, count: number): Promise<number[]> {
  const out: number[] = [];
  let prev: number | undefined;
  for (let k = 0; k < count; k++) {
    await sleep(Math.max(0, t0 + 500 + k * 1000 - performance.now()));
    const now = threadsCpuOf(pid);
    if (prev !== undefined) out.push(now - prev);
    prev = now;
  }
  return out;
}

async function runMode(server: ServerProcess, kubeconfig: string, mode: Mode, o: Options, log: (s: string) => void): Promise<ModeResult> {
  const tag = `sl-churn-${process.pid}`, pinRoot = `/sys/fs/bpf/${tag}`;
  if (mode === 'pinned') addNetns(tag); // nothing to attach to in there: the maps are what is measured
  const args = mode === 'pinned' ? ['--pin-root', pinRoot, '--netns', tag]
    : mode === 'dry-run' ? ['--dry-run'] : ['--dry-run', '--kube-api-content-type', JSON_TYPE];
  const agent = new AgentProcess('node-0', kubeconfig, args);
  try {
    const synced = await agent.until('synced', 600_000);
    const atReady = cpuOf(agent.pid);
    log(`${mode}: ready after ${synced.processCpuSeconds} s of CPU (${synced.syncCpuSeconds} s the full sync); RSS in 10 s, then idle ${o.idle} s`);
    await sleep(10_000);
    const rss10 = rssOf(agent.pid), c0 = threadsCpuOf(agent.pid), released = cpuOf(agent.pid) - atReady;
    await sleep(o.idle * 1000);
    const c1 = threadsCpuOf(agent.pid);
    const churn = async (kind: ChurnKind, count: number): Promise<Phase> => {
      const mark = agent.lines.length, p0 = threadsCpuOf(agent.pid), t0 = performance.now();
      const perSecond = secondsCpu(agent.pid, t0, count);
      await server.ask({ op: 'churn', kind, count, everyMs: 1000 });
      await sleep(Math.max(0, t0 + count * 1000 - performance.now()));
      const batches = agent.lines.slice(mark).filter((l) => l.msg === 'batch');
      return {
        kind, cpu: threadsCpuOf(agent.pid) - p0, seconds: (performance.now() - t0) / 1000, changes: count, batches: batches.length,
        ops: batches.reduce((n, l) => n + l.opCount, 0), applyMs: batches.map((l) => l.applyMs), perSecond: await perSecond,
      };
    };
    const warmup: Phase[] = [], phases: Phase[] = [];
    for (const kind of o.warmup > 0 ? KINDS : []) {
      log(`${mode}: warm-up, a ${kind} change a second for ${o.warmup} s`);
      warmup.push(await churn(kind, o.warmup));
    }
    for (const kind of KINDS) {
      log(`${mode}: a ${kind} change a second for ${o.churn} s`);
      phases.push(await churn(kind, o.churn));
    }
    const c2 = threadsCpuOf(agent.pid);
    await sleep(o.idle * 1000);
    const idleRate = (c1 - c0 + threadsCpuOf(agent.pid) - c2) / (2 * o.idle);
    await agent.stop();
    const restart = mode === 'pinned' ? await restarted(kubeconfig, args, log) : undefined;
    const starts = [startOf(agent, synced)];
    for (let i = 1; i < o.starts; i++) {
      const own = mode === 'pinned' ? `${pinRoot}-${i}` : undefined;
      starts.push(await freshStart(kubeconfig, mode, own ? ['--pin-root', own, '--netns', tag] : args, own, log));
    }
    const mid = (f: (s: Start) => number) => median(starts.map(f));
    return {
      mode, startCpu: mid((x) => x.startCpu), readyCpu: mid((x) => x.readyCpu), syncCpu: mid((x) => x.syncCpu), syncMs: synced.syncMs, starts,
      rss10, releaseCpu: released, idleRate, warmup, phases, exit: agent.child.exitCode, restart,
      compilerHeap: agent.line('compiler heap released') ?? agent.line('compiler heap release skipped'),
    };
  } finally {
    await agent.stop();
    if (mode === 'pinned') {
      deleteNetns(tag);
      try {
        removePinRoot(pinRoot);
      } catch {
        // never made
      }
    }
  }
}

const startOf = (agent: AgentProcess, synced: { [k: string]: any }): Start =>
  ({ readyCpu: synced.processCpuSeconds, startCpu: agent.line('start')!.processCpuSeconds, syncCpu: synced.syncCpuSeconds });

/**
 * One more agent from nothing to ready, then stopped: a single start's CPU
 * moved by a tenth from run to run on the benchmark's VMs. Pinned, it gets a
 * pin root of its own, removed after it.
 */
async function freshStart(kubeconfig: string, mode: Mode, args: string[], pinRoot: string | undefined, log: (s: string) => void): Promise<Start> {
  const agent = new AgentProcess('node-0', kubeconfig, args);
  try {
    const s = startOf(agent, await agent.until('synced', 600_000));
    log(`${mode}, a fresh start: ready after ${s.readyCpu} s of CPU (${s.syncCpu} s the full sync)`);
    return s;
  } finally {
    await agent.stop();
    if (pinRoot) removePinRoot(pinRoot);
  }
}

/** An agent restarted on the pins another left: its CPU to ready, and the entries it wrote. */
async function restarted(kubeconfig: string, args: string[], log: (s: string) => void): Promise<ModeResult['restart']> {
  const agent = new AgentProcess('node-0', kubeconfig, args);
  try {
    const synced = await agent.until('synced', 600_000);
    log(`pinned, restarted: ready after ${synced.processCpuSeconds} s of CPU (${synced.syncCpuSeconds} s the full sync), ${synced.applied} entries written`);
    return { ...startOf(agent, synced), applied: synced.applied };
  } finally {
    await agent.stop();
  }
}

/** The agent's RSS ten seconds after ready, and its CPU to ready, on a cluster of this size (a server of its own). */
async function sized(size: ClusterSize): Promise<{ rss: number; readyCpu: number }> {
  const server = new ServerProcess();
  try {
    const { kubeconfig } = await server.ask<{ kubeconfig: string }>({ op: 'load', size });
    const agent = new AgentProcess('node-0', kubeconfig);
    try {
      const synced = await agent.until('synced', 600_000);
      await sleep(10_000);
      return { rss: rssOf(agent.pid), readyCpu: synced.processCpuSeconds };
    } finally {
      await agent.stop();
    }
  } finally {
    server.close();
  }
}

interface Growth { perPod: number; perService: number; podRecord: number; serviceRecord: number; sizes: string }

/** RSS per Pod and per Service, from three clusters around half of issue 12's (Namespaces stay 500, so a Pod or a Service is all that changes). */
async function growth(log: (s: string) => void): Promise<Growth> {
  const half: ClusterSize = { ...ISSUE_12, podsPerNamespace: ISSUE_12.podsPerNamespace / 2, servicesPerNamespace: ISSUE_12.servicesPerNamespace / 2 };
  const morePods: ClusterSize = { ...half, podsPerNamespace: ISSUE_12.podsPerNamespace };
  const moreServices: ClusterSize = { ...half, servicesPerNamespace: ISSUE_12.servicesPerNamespace };
  const runs: number[] = [];
  for (const [what, s] of [['half', half], ['pods doubled', morePods], ['services doubled', moreServices]] as const) {
    log(`sizing: ${what} (${s.namespaces * s.podsPerNamespace} Pods, ${s.namespaces * s.servicesPerNamespace} Services)`);
    runs.push((await sized(s)).rss);
  }
  const pods = half.namespaces * half.podsPerNamespace, services = half.namespaces * half.servicesPerNamespace;
  const bytes = (o: object) => encodeRecords([normalize(o).record!]).length;
  return {
    perPod: (runs[1] - runs[0]) / pods, perService: (runs[2] - runs[0]) / services,
    podRecord: bytes(pod(0, ISSUE_12)), serviceRecord: bytes(service(0, 0, ISSUE_12)) + bytes(slice(0, 0, ISSUE_12)),
    sizes: runs.map((r) => `${(r / 2 ** 20).toFixed(0)}`).join(' / '),
  };
}

/** kube-proxy's costs on this machine, CPU s (median of the restore tool's), by what they stand for. */
interface Baseline { legacyFull: number; nftChange: number; legacyChange: number; rows: string }

function medianOf(rows: { mode: string; op: string; cpu_s: number; rc: number }[], mode: string, op: string): number | undefined {
  const xs = rows.filter((r) => r.mode === mode && r.op === op && r.rc === 0).map((r) => r.cpu_s);
  return xs.length ? median(xs) : undefined;
}

/** Runs 02_sync_cost.sh (legacy and nft, 5,000 Services x 5) within a time bound; undefined when it cannot. */
function liveBaseline(dir: string, services: number, timeoutS: number, log: (s: string) => void): Baseline | undefined {
  const script = resolve(ROOT, dir, '02_sync_cost.sh');
  if (process.geteuid?.() !== 0) return void log('baseline: skipped (not root: it loads rules into network namespaces)');
  if (!existsSync(script)) return void log(`baseline: skipped (no ${script})`);
  ensureCommands(['bash', 'iptables-legacy-restore', 'nft']);
  const out = mkdtempSync(join(tmpdir(), 'sluice-kpb-'));
  try {
    log(`baseline: ${script} -N ${services} -r 3 -b 20 -m "legacy nft" (at most ${timeoutS} s)`);
    const r = tryRun(['bash', script, '-N', String(services), '-r', '3', '-b', '20', '-m', 'legacy nft', '-o', join(out, 'sync.jsonl')],
      { env: { ...process.env, KPB_OUT: out }, timeoutMs: timeoutS * 1000, killSignal: 'SIGTERM' });
    if (r.status !== 0) return void log(`baseline: did not finish (${r.error?.message ?? `exit ${r.status}`})`);
    const rows = readFileSync(join(out, 'sync.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const get = (mode: string, op: string) => medianOf(rows, mode, op);
    const legacyFull = get('legacy', 'initial-full-noflush'), nftChange = get('nft', 'change-partial'), legacyChange = get('legacy', 'change-partial');
    if (legacyFull === undefined || nftChange === undefined || legacyChange === undefined) {
      const failed = rows.find((x) => x.rc !== 0);
      return void log(`baseline: no figures (${failed ? `${failed.mode} ${failed.op}: ${String(failed.stderr ?? `exit ${failed.rc}`).trim()}` : 'no rows'})`);
    }
    const all = (mode: string, op: string) => rows.filter((x) => x.mode === mode && x.op === op).map((x) => x.cpu_s.toFixed(2)).join(', ');
    return {
      legacyFull, nftChange, legacyChange,
      rows: `legacy cold full sync ${all('legacy', 'initial-full-noflush')}; nft partial ${all('nft', 'change-partial')}; legacy partial ${all('legacy', 'change-partial')}`,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Busy and total jiffies of the whole machine, to tell how loaded it was. */
function machine(): { busy: number; total: number } {
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - v[4], total };
}

export async function benchAgentChurn(argv: readonly string[] = []): Promise<void> {
  const { values: v } = parseArgs({
    args: [...argv], options: {
      idle: { type: 'string', default: '30' }, warmup: { type: 'string', default: '10' }, churn: { type: 'string', default: '30' }, modes: { type: 'string', default: 'dry-run,pinned' },
      starts: { type: 'string', default: '5' }, sizing: { type: 'string', default: 'yes' }, baseline: { type: 'string', default: 'live' }, 'baseline-dir': { type: 'string', default: BASELINES },
      'baseline-timeout': { type: 'string', default: '900' }, help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(CHURN_USAGE);
  const o: Options = { idle: Number(v.idle), warmup: Number(v.warmup), churn: Number(v.churn), starts: Number(v.starts) };
  if (!Number.isInteger(o.starts) || o.starts < 1) throw new Error(`--starts: "${v.starts}" is not a whole number of at least 1`);
  if (!Number.isInteger(o.warmup) || o.warmup < 0) throw new Error(`--warmup: "${v.warmup}" is not a whole number`);
  const log = (s: string) => console.error(`# ${s}`);
  const m0 = machine(), load0 = loadavg()[0], t0 = Date.now();
  const results: ModeResult[] = [];
  // Warm Node's compile cache as an image build does; the runs below then start as the image's agent would.
  await sized({ namespaces: 2, podsPerNamespace: 2, servicesPerNamespace: 2, endpoints: 2, policiesPerNamespace: 2, nodes: 2 });
  const server = new ServerProcess();
  try {
    const { kubeconfig, objects } = await server.ask<{ kubeconfig: string; objects: number }>({ op: 'load', size: ISSUE_12 });
    log(`fake API server (pid ${server.child.pid}): ${objects} objects`);
    for (const mode of v.modes!.split(',') as Mode[]) {
      if (!MODES.includes(mode)) throw new Error(`--modes: "${mode}" is not one of ${MODES.join(', ')}`);
      if (mode === 'pinned' && process.geteuid?.() !== 0) {
        log('pinned maps: skipped, not root');
        continue;
      }
      results.push(await runMode(server, kubeconfig, mode, o, log));
    }
  } finally {
    server.close();
  }
  const grew = v.sizing === 'yes' ? await growth(log) : undefined;
  const m1 = machine(), busy = (m1.busy - m0.busy) / (m1.total - m0.total), load1 = loadavg()[0];
  const base = v.baseline === 'live' ? liveBaseline(v['baseline-dir']!, ISSUE_12.namespaces * ISSUE_12.servicesPerNamespace, Number(v['baseline-timeout']), log) : undefined;
  report(results, grew, base, o, { busy, load0, load1, minutes: (Date.now() - t0) / 60_000 });
}

function report(results: ModeResult[], grew: Growth | undefined, base: Baseline | undefined, o: Options,
  m: { busy: number; load0: number; load1: number; minutes: number }): void {
  const s = ISSUE_12;
  const ms = (x: number) => (x * 1000).toFixed(2), mib = (b: number) => (b / 2 ** 20).toFixed(0);
  /** x against y: "1/N" when at most half, else "0.92 x". */
  const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || !y ? '-' : 2 * x <= y ? `1/${Math.round(y / Math.max(x, 1e-9))}` : `${(x / y).toFixed(2)} x`);
  const perChange = (r: ModeResult, p: Phase) => ({ raw: p.cpu / p.changes, net: Math.max(0, p.cpu - r.idleRate * p.seconds) / p.changes });
  console.log(`\n${s.namespaces * s.servicesPerNamespace} Services x ${s.endpoints} endpoints, ${s.namespaces * s.podsPerNamespace} Pods in ${s.namespaces} Namespaces, ` +
    `${s.namespaces * s.policiesPerNamespace} NetworkPolicies, ${s.nodes} Nodes; --min-sync 1s; idle ${o.idle} s, ${o.warmup} changes of each kind to warm up, ` +
    `${o.churn} changes of each kind (one a second), idle ${o.idle} s`);
  console.log(table([
    ['agent', 'CPU to ready', 'of which start', 'full sync CPU', 'full sync wall', 'RSS 10 s after ready', 'heap release after ready', 'idle CPU', 'exit'],
    ...results.map((r) => [r.mode, `${r.readyCpu.toFixed(2)} s`, `${r.startCpu.toFixed(2)} s`, `${r.syncCpu.toFixed(2)} s`, `${(r.syncMs / 1000).toFixed(2)} s`,
      `${mib(r.rss10)} MiB`, `${r.releaseCpu.toFixed(2)} s`, `${ms(r.idleRate)} ms/s`, String(r.exit)]),
  ]));
  console.log(`(CPU to ready: the whole process from exec until the first full sync is in the maps, Node.js start and module loading included,`);
  console.log(' the median of each mode\'s fresh starts (below); start: until the agent began to list; full sync: from its first list request;');
  console.log(' the heap release runs right after ready.)');
  for (const r of results) console.log(`${r.mode}: CPU to ready in each of ${r.starts.length} fresh starts: ${r.starts.map((x) => x.readyCpu.toFixed(2)).join(', ')} s`);
  for (const r of results.filter((x) => x.compilerHeap)) {
    const h = r.compilerHeap as { usedBytes?: number; freeBytes: number; releasedBytes: number; memoryBytes: number; reason?: string };
    console.log(h.usedBytes === undefined ? `${r.mode}: the compiler's heap release after ready skipped: ${h.reason}`
      : `${r.mode}: the compiler's heap after the sync and a collection: ${mib(h.usedBytes)} MiB in use, ${mib(h.freeBytes)} MiB free, ` +
        `of which ${mib(h.releasedBytes)} MiB released (whole pages inside free blocks), of ${mib(h.memoryBytes)} MiB of WebAssembly memory`);
  }
  for (const r of results.filter((x) => x.restart)) {
    const t = r.restart!;
    console.log(`${r.mode}, restarted on the pins it left (programs attached, maps full): CPU to ready ${t.readyCpu.toFixed(2)} s ` +
      `(start ${t.startCpu.toFixed(2)} s, full sync ${t.syncCpu.toFixed(2)} s), ${t.applied} entries written`);
  }
  console.log('');
  console.log(table([
    ['agent', 'change', 'batches', 'ops per batch', 'apply p50', 'CPU per change', 'idle-adjusted', 'of nftables\' partial sync', 'median second, idle-adjusted'],
    ...results.flatMap((r) => r.phases.map((p) => {
      const c = perChange(r, p), second = p.perSecond.length ? `${ms(median(p.perSecond) - r.idleRate)} ms` : '-';
      return [r.mode, p.kind, p.batches, (p.ops / Math.max(1, p.batches)).toFixed(1), `${median(p.applyMs).toFixed(2)} ms`, `${ms(c.raw)} ms`, `${ms(c.net)} ms`,
        base ? `${ratio(c.raw, base.nftChange)} (${ratio(c.net, base.nftChange)})` : '-', second];
    })),
  ]));
  console.log(`(median second: the agent's CPU in each of the ${Math.max(0, o.churn - 1)} seconds that hold one change each, less the idle rate; ` +
    'the median, which a collection or a burst elsewhere on the machine does not move. The goals are on the mean.)');
  for (const r of results.filter((x) => x.warmup.length)) {
    console.log(`${r.mode}, the warm-up before them (not counted), CPU per change: ` +
      r.warmup.map((p) => `a ${p.kind} ${ms(p.cpu / p.changes)} ms`).join(', '));
  }
  if (grew) {
    console.log(`\nRSS ten seconds after ready (dry-run) on half the cluster, with the Pods doubled, with the Services doubled: ${grew.sizes} MiB:`);
    console.log(`${grew.perPod.toFixed(0)} bytes per Pod (its normalized record: ${grew.podRecord} bytes), ` +
      `${grew.perService.toFixed(0)} bytes per Service with its slice of ${s.endpoints} (their records: ${grew.serviceRecord} bytes)`);
  }
  console.log(base ? `\nkube-proxy on this machine, same run (02_sync_cost.sh, restore tool's CPU, medians): ${base.rows}` : '\nkube-proxy: no live baseline in this run');
  const goals: [string, string, boolean | undefined][] = [];
  for (const r of results) {
    goals.push([`${r.mode}: CPU to ready <= 0.5 x iptables-legacy-restore of the whole ruleset`, `${r.readyCpu.toFixed(2)} s / ${base?.legacyFull.toFixed(2) ?? '?'} s = ${ratio(r.readyCpu, base?.legacyFull)}`,
      base && r.readyCpu <= 0.5 * base.legacyFull]);
    goals.push([`${r.mode}: RSS 10 s after ready <= 150 MiB`, `${mib(r.rss10)} MiB`, r.rss10 <= 150 * 2 ** 20]);
    for (const p of r.phases) {
      const c = perChange(r, p);
      goals.push([`${r.mode}: a ${p.kind} change <= 1/100 of nftables' partial sync`, `${ms(c.raw)} ms (${ms(c.net)} idle-adjusted) / ${base ? ms(base.nftChange) : '?'} ms = ${ratio(c.raw, base?.nftChange)}`,
        base && c.raw <= base.nftChange / 100]);
    }
  }
  if (grew) goals.push(['RSS grows no faster than the records it keeps', `${grew.perPod.toFixed(0)} B per Pod (record ${grew.podRecord} B), ${grew.perService.toFixed(0)} B per Service (records ${grew.serviceRecord} B)`, undefined]);
  console.log('\nGoals:');
  for (const [goal, got, met] of goals) console.log(`- ${goal}: ${got} - ${met === undefined ? 'see above' : met ? 'met' : 'NOT met'}`);
  console.log(`\n(${m.minutes.toFixed(1)} min; the machine ${(m.busy * 100).toFixed(0)}% busy on average; load average ${m.load0.toFixed(1)} before, ${m.load1.toFixed(1)} after, on ${availableParallelism()} CPUs;`);
  console.log(' agent and fake API server in processes of their own, each one\'s CPU from /proc; per change and idle: the agent\'s threads\' schedstat, in ns)');
}
