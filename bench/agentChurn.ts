// The agent churn benchmark, after the Calico eBPF announcement's test: a
// cluster of N Services x K endpoints served by the fake API server, the agent
// (`sluice run`, a child process) synced with --min-sync 1s, then idle, then
// one Service's endpoints changing every second (its slice alternating between
// two endpoint sets), then idle again. Measured from outside: the agent
// process's CPU (/proc/<pid>/stat) per phase, its RSS, and from its log the
// full sync's CPU, the batches, their diff ops and apply latencies. Runs with
// --dry-run, and (as root) on real pinned maps. Beside it, kube-proxy's cost
// for the same changes on this machine: the kube-proxy baseline kit's sync
// script (--baseline-dir) run live (root, bounded), or the figures of its
// report. CHURN_USAGE has the flags.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { removePinRoot } from '../runtime/bpf/bpffs.ts';
import { start, tryRun } from '../runtime/exec/command.ts';
import { addNetns, deleteNetns } from '../runtime/exec/namespaces.ts';
import { FakeApiServer } from '../testkit/fakeApiServer.ts';
import { nodeObject, serviceObject, sliceObject, syntheticNode, syntheticService } from '../testkit/syntheticCluster.ts';
import { median, table } from './stats.ts';

const MAIN = new URL('../runtime/cli/main.ts', import.meta.url).pathname;
export const CHURN_USAGE = `usage: npm run bench -- churn [flags]

The agent (sluice run) synced on N Services x K endpoints, idle, then one
Service's endpoints changing every second, then idle: its CPU per phase, RSS,
batches and apply latencies; beside kube-proxy's cost for the same changes.

  --services N            Services (default 5000)
  --endpoints K           endpoints per Service (default 5)
  --idle S                seconds idle before and after the churn (default 90)
  --churn S               seconds of churn, one change a second (default 100)
  --modes A,B             dry-run,pinned (default both; pinned needs root)
  --baseline live|report  kube-proxy's figures: its sync script run now
                          (root, --baseline-dir), or its report's (default live)
  --baseline-dir DIR      the kube-proxy baseline kit (02_sync_cost.sh); without
                          it, live falls back to the report's figures
  --baseline-timeout S    the live baseline's bound (default 900)
`;
const CLK_TCK = Number(tryRun(['getconf', 'CLK_TCK']).stdout.trim()) || 100;

type Line = { msg: string; [k: string]: any };

interface ModeResult {
  mode: string;
  syncMs: number; syncCpu: number; readyCpu: number; rssSync: number;
  idle1: number; idle2: number; idleS: number; churnCpu: number; churnS: number; changes: number;
  batches: number; ops: number; applyMs: number[]; compileMs: number[]; rssEnd: number; rssPeak: number; exit: number | null;
}

/** utime + stime of a process, in seconds. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15, counted from after "(comm) "
}

function memOf(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Busy and total jiffies of the whole machine, to tell how loaded it was. */
function machine(): { busy: number; total: number } {
  const [, ...v] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - v[4], total };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runMode(mode: 'dry-run' | 'pinned', o: { services: number; endpoints: number; idle: number; churn: number }, log: (s: string) => void): Promise<ModeResult> {
  const server = await FakeApiServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-churn-'));
  const tag = `sl-churn-${process.pid}`;
  const pinRoot = `/sys/fs/bpf/${tag}`;
  try {
    for (let i = 0; i < 3; i++) server.apply('nodes', nodeObject(syntheticNode(i)));
    for (let i = 0; i < o.services; i++) {
      const s = syntheticService(i, { endpoints: o.endpoints });
      server.apply('services', serviceObject(s));
      server.apply('endpointslices', sliceObject(s));
    }
    const args = ['run', '--node', 'node-0', '--kubeconfig', server.writeKubeconfig(join(dir, 'kubeconfig')), '--min-sync', '1s', '--listen', '127.0.0.1:0'];
    if (mode === 'dry-run') args.push('--dry-run');
    else {
      addNetns(tag); // nothing to attach to in there: the maps are what is measured
      args.push('--pin-root', pinRoot, '--netns', tag);
    }
    const child = start(['node', MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const lines: Line[] = [];
    let buf = '';
    child.stderr!.on('data', (b: Buffer) => {
      buf += b.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const pid = child.pid!;
    try {
      const t0 = performance.now();
      while (!lines.some((l) => l.msg === 'synced')) {
        const fatal = lines.find((l) => l.level === 'error');
        if (fatal || performance.now() - t0 > 300_000) throw new Error(`${mode}: no sync: ${JSON.stringify(fatal ?? lines.at(-1))}`);
        await sleep(20);
      }
      const synced = lines.find((l) => l.msg === 'synced')!;
      const rssSync = memOf(pid).rss;
      log(`${mode}: synced in ${synced.syncMs} ms, ${synced.syncCpuSeconds} s CPU; idle ${o.idle} s`);
      const c0 = cpuOf(pid);
      await sleep(o.idle * 1000);
      const c1 = cpuOf(pid), b1 = lines.length;
      log(`${mode}: churn ${o.churn} s`);
      const churnStart = performance.now();
      let changes = 0;
      for (let i = 0; i < o.churn; i++) {
        await sleep(Math.max(0, churnStart + i * 1000 - performance.now()));
        server.apply('endpointslices', sliceObject(syntheticService(o.services >> 1, { endpoints: o.endpoints, generation: (i & 1) === 0 ? 1 : 0 })));
        changes++;
      }
      await sleep(Math.max(0, churnStart + o.churn * 1000 - performance.now()));
      const churnS = (performance.now() - churnStart) / 1000;
      const c2 = cpuOf(pid);
      const churnLines = lines.slice(b1).filter((l) => l.msg === 'batch');
      log(`${mode}: idle ${o.idle} s`);
      await sleep(o.idle * 1000);
      const c3 = cpuOf(pid);
      const mem = memOf(pid);
      child.kill('SIGTERM');
      const exit = await exited;
      return {
        mode, syncMs: synced.syncMs, syncCpu: synced.syncCpuSeconds, readyCpu: synced.processCpuSeconds, rssSync,
        idle1: c1 - c0, idle2: c3 - c2, idleS: o.idle, churnCpu: c2 - c1, churnS, changes,
        batches: churnLines.length, ops: churnLines.reduce((n, l) => n + l.opCount, 0),
        applyMs: churnLines.map((l) => l.applyMs), compileMs: churnLines.map((l) => l.compileMs),
        rssEnd: mem.rss, rssPeak: mem.peak, exit,
      };
    } finally {
      child.kill('SIGKILL');
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
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

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN;
};

/** kube-proxy's costs on this machine, CPU s (median), by what they stand for. */
interface Baseline { source: string; nftChange: number; nftChangeRange: string; legacyChange: number; legacyChangeRange: string; legacyFull: number }

/** From the report (REPORT.md, results/sync.jsonl of 2026-11-26). */
const REPORTED: Baseline = {
  source: 'the kube-proxy baseline kit\'s REPORT.md (results/sync.jsonl, measured 2026-11-26 on the development machine)',
  nftChange: 0.23, nftChangeRange: '0.16-0.23 (partial sync 0.23, deferred chain delete 0.16)',
  legacyChange: 0.68, legacyChangeRange: '0.62-0.68 (minimal restore 0.62, partial sync 0.68)', legacyFull: 1.68,
};

function medianOf(rows: { mode: string; op: string; cpu_s: number; rc: number }[], mode: string, op: string): number | undefined {
  const xs = rows.filter((r) => r.mode === mode && r.op === op && r.rc === 0).map((r) => r.cpu_s);
  return xs.length ? median(xs) : undefined;
}

/** Runs 02_sync_cost.sh (legacy and nft, 5000 services) within a time bound; undefined when it cannot. */
function liveBaseline(dir: string | undefined, services: number, timeoutS: number, log: (s: string) => void): Baseline | undefined {
  if (dir === undefined) return undefined;
  const script = join(dir, '02_sync_cost.sh');
  if (process.geteuid?.() !== 0 || !existsSync(script)) return undefined;
  const out = mkdtempSync(join(tmpdir(), 'sluice-kpb-'));
  try {
    log(`baseline: ${script} -N ${services} -r 3 -b 20 -m "legacy nft" (at most ${timeoutS} s)`);
    const r = tryRun(['bash', script, '-N', String(services), '-r', '3', '-b', '20', '-m', 'legacy nft', '-o', join(out, 'sync.jsonl')],
      { env: { ...process.env, KPB_OUT: out }, timeoutMs: timeoutS * 1000, killSignal: 'SIGTERM' });
    if (r.status !== 0) {
      log(`baseline: did not finish (${r.error?.message ?? `exit ${r.status}`}); using the report's figures`);
      return undefined;
    }
    const rows = readFileSync(join(out, 'sync.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const get = (mode: string, op: string) => medianOf(rows, mode, op);
    const nftPartial = get('nft', 'change-partial'), nftStale = get('nft', 'change-stale-delete');
    const legacyPartial = get('legacy', 'change-partial'), legacyMinimal = get('legacy', 'change-minimal'), legacyFull = get('legacy', 'initial-full-noflush');
    if ([nftPartial, nftStale, legacyPartial, legacyMinimal, legacyFull].some((x) => x === undefined)) return undefined;
    return {
      source: `${script}, run live now (medians)`,
      nftChange: nftPartial!, nftChangeRange: `${nftStale!.toFixed(2)}-${nftPartial!.toFixed(2)} (partial sync ${nftPartial!.toFixed(2)}, deferred chain delete ${nftStale!.toFixed(2)})`,
      legacyChange: legacyPartial!, legacyChangeRange: `${legacyMinimal!.toFixed(2)}-${legacyPartial!.toFixed(2)} (minimal restore ${legacyMinimal!.toFixed(2)}, partial sync ${legacyPartial!.toFixed(2)})`,
      legacyFull: legacyFull!,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export async function benchAgentChurn(argv: readonly string[] = []): Promise<void> {
  const { values: v } = parseArgs({
    args: [...argv], options: {
      services: { type: 'string', default: '5000' }, endpoints: { type: 'string', default: '5' }, idle: { type: 'string', default: '90' },
      churn: { type: 'string', default: '100' }, modes: { type: 'string', default: 'dry-run,pinned' },
      baseline: { type: 'string', default: 'live' }, 'baseline-dir': { type: 'string' }, 'baseline-timeout': { type: 'string', default: '900' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (v.help) return void console.log(CHURN_USAGE);
  const o = { services: Number(v.services), endpoints: Number(v.endpoints), idle: Number(v.idle), churn: Number(v.churn) };
  const log = (s: string) => console.error(`# ${s}`);
  const m0 = machine();
  const results: ModeResult[] = [];
  for (const mode of v.modes!.split(',') as ('dry-run' | 'pinned')[]) {
    if (mode === 'pinned' && process.geteuid?.() !== 0) {
      console.log('(pinned maps: skipped, not root)');
      continue;
    }
    try {
      results.push(await runMode(mode, o, log));
    } catch (e) {
      console.log(`(${mode}: failed: ${(e as Error).message})`);
    }
  }
  const m1 = machine();
  const busy = (m1.busy - m0.busy) / (m1.total - m0.total);
  const base = (v.baseline === 'live' && liveBaseline(v['baseline-dir'], o.services, Number(v['baseline-timeout']), log)) || REPORTED;

  const perChange = (r: ModeResult) => {
    const idleRate = (r.idle1 + r.idle2) / (2 * r.idleS);
    return { raw: r.churnCpu / r.changes, net: Math.max(0, r.churnCpu - idleRate * r.churnS) / r.changes, idleRate };
  };
  const ms = (x: number) => (x * 1000).toFixed(2);
  const mib = (b: number) => (b / 2 ** 20).toFixed(0);
  console.log(`\n${o.services} Services x ${o.endpoints} endpoints, --min-sync 1s; idle ${o.idle} s, churn ${o.churn} s (one slice update a second), idle ${o.idle} s`);
  console.log(table([
    ['agent', 'full sync wall ms', 'full sync CPU s', 'CPU s at ready', 'RSS MiB (sync / end / peak)', 'idle CPU ms/s (before / after)', 'churn batches', 'diff ops', 'ops/batch',
      'apply p50 ms', 'apply p99 ms', 'compile p50 ms', 'CPU ms per change', 'idle-adjusted', 'exit'],
    ...results.map((r) => {
      const c = perChange(r);
      return [r.mode, r.syncMs.toFixed(0), r.syncCpu.toFixed(3), r.readyCpu.toFixed(2), `${mib(r.rssSync)} / ${mib(r.rssEnd)} / ${mib(r.rssPeak)}`,
        `${ms(r.idle1 / r.idleS)} / ${ms(r.idle2 / r.idleS)}`, r.batches, r.ops, (r.ops / Math.max(1, r.batches)).toFixed(1), pct(r.applyMs, 50).toFixed(3), pct(r.applyMs, 99).toFixed(3),
        pct(r.compileMs, 50).toFixed(3), ms(c.raw), ms(c.net), String(r.exit)];
    }),
  ]));
  console.log(`(full sync CPU: from subscribing to the API until the first batch is in the maps, client-node's lists included; CPU at ready: the whole process,`);
  console.log(` Node.js start and module loading included. CPU per change: the agent's CPU during the churn over the changes; idle-adjusted: less the mean`);
  console.log(` of its two idle rates (the first idle phase carries V8's collection of what the sync left).`);
  console.log(` The machine was ${(busy * 100).toFixed(0)}% busy on average over these runs (2 vCPU; the fake API server ran in this process).)`);
  console.log(`\nkube-proxy on this machine, from ${base.source}:`);
  const rows: (string | number)[][] = [['per one-Service change', 'CPU s', 'sluice dry-run / it', 'sluice pinned / it', 'goal']];
  const of = (mode: string) => results.find((r) => r.mode === mode);
  /** x against y: "1/N" when at most half, else "0.92 x", "1.6 x". */
  const ratio = (x: number | undefined, y: number) => (x === undefined ? '-' : 2 * x <= y ? `1/${Math.round(y / Math.max(x, 1e-9))}` : `${(x / y).toFixed(2)} x`);
  const change = (mode: string, y: number) => {
    const r = of(mode);
    return r ? `${ratio(perChange(r).raw, y)} (${ratio(perChange(r).net, y)})` : '-';
  };
  rows.push([`nftables mode: ${base.nftChangeRange}`, base.nftChange.toFixed(2), change('dry-run', base.nftChange), change('pinned', base.nftChange), '<= 1/100']);
  rows.push([`iptables legacy: ${base.legacyChangeRange}`, base.legacyChange.toFixed(2), change('dry-run', base.legacyChange), change('pinned', base.legacyChange), '']);
  rows.push(['full sync, 5k x 5', '', '', '', '']);
  rows.push(['iptables legacy, cold (restore --noflush)', base.legacyFull.toFixed(2), ratio(of('dry-run')?.syncCpu, base.legacyFull),
    ratio(of('pinned')?.syncCpu, base.legacyFull), 'sluice <= 0.17 s']);
  console.log(table(rows));
  console.log('(kube-proxy figures are the restore tool\'s CPU only, not kube-proxy\'s own; sluice\'s are the whole agent process.');
  console.log(' Per change: raw (idle-adjusted). Full sync: sluice\'s full sync CPU against the restore\'s.)');
}
