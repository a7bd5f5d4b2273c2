// The NodePort benchmark (issue 9 item 4, the seed's NodePort chart): an
// external client GETs a 612-byte page through a NodePort on node-a from the
// one backend, on node-b, of a Service among 1,000 others, each GET on a new
// connection, timed to connect and to the last byte; for sluice (SNAT, the
// default), sluice --dsr, and kube-proxy's nftables and iptables modes, side
// by side in one run: every lane is a testbed (bench/datapath/testbedLane.ts)
// and all are up at once; reps go through them in rotating order, each sample
// after a bounded wait for a quiet machine. A floor lane GETs the backend by
// its own address, routed through node-a: no Service, no NAT, the least any
// NodePort path can take. Needs root. Writes <out>/nodeport.{jsonl,md,svg}.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { median } from './stats.ts';
import { CommandError, nsenter, run, runAsync } from '../runtime/exec/command.ts';
import { CLIENT_CPU, SERVER_CPU } from './datapath/lane.ts';
import { removeLeftovers } from './datapath/leftovers.ts';
import { nodePortChart, nodePortFloor, nodePortGoals, nodePortMarkdown, nodePortRows, nodePortTable, type NodePortSample } from './datapath/nodeportReport.ts';
import { iptablesFlag, parseBenchFlags } from './datapath/options.ts';
import type { LaneInfo } from './datapath/pod2podReport.ts';
import { DEFAULT_QUIET, waitQuiet } from './datapath/quiet.ts';
import { goalLines } from './datapath/report.ts';
import { fakeServices, type BenchService } from './datapath/services.ts';
import { buildSluice, buildTools, ensureCommands, log, machine, requireRoot, ROOT } from './datapath/setup.ts';
import { laneStats, podNetns, type TestbedLane, type TestbedLaneSpec } from './datapath/testbedLane.ts';
import { testbedRun } from './datapath/testbedRun.ts';
import { NODES, podKey, SERVER_POD, writeInputs } from './datapath/twoNodes.ts';

export const NODEPORT_USAGE = `usage: npm run bench -- nodeport [flags]     (root)

An external client GETs a 612-byte page through a NodePort on node-a, from
the Service's one backend on node-b, among other Services; each GET on a new
connection, timed to connect and to its last byte. sluice (SNAT), sluice
--dsr, kube-proxy's nftables and iptables modes, and the floor (the backend's
own address, routed through node-a), side by side in one run. Writes
<out>/nodeport.{jsonl,md,svg}.

  --reps N              samples per lane (default 30)
  --count N             GETs per sample (default 1000)
  --warmup N            GETs before each sample, not counted (default 100)
  --services N          other Services (default 1000)
  --iptables legacy|nft kube-proxy's iptables backend (default legacy)
  --quiet-max-ms N      longest wait for a quiet machine per sample (default ${DEFAULT_QUIET.maxMs})
  --quiet-below F       busy fraction counted as quiet (default ${DEFAULT_QUIET.threshold})
  --max-minutes N       no sample starts after N minutes (default 30)
  --out DIR             where results go (default bench/results)
  --smoke               --reps 1 --count 200 --warmup 20 --services 100
                        --quiet-max-ms 500 --out build/bench/nodeport-smoke
  --cleanup             only remove what killed runs left, then exit
`;

interface NodePortOptions {
  reps: number;
  count: number;
  warmup: number;
  services: number;
  iptables: 'legacy' | 'nft';
  quiet: typeof DEFAULT_QUIET;
  maxMinutes: number;
  out: string;
}

const NODE_PORT = 30080, BACKEND_PORT = 8080, SAMPLE_LIMIT_S = 60;
const DEFAULTS = { reps: '30', count: '1000', warmup: '100', services: '1000', 'quiet-max-ms': String(DEFAULT_QUIET.maxMs), 'max-minutes': '30', out: 'bench/results' };
const SMOKE = { reps: '1', count: '200', warmup: '20', services: '100', 'quiet-max-ms': '500', 'max-minutes': '10', out: 'build/bench/nodeport-smoke' };

function parseOptions(args: readonly string[]): NodePortOptions | 'help' | 'cleanup' {
  const f = parseBenchFlags(args, ['reps', 'count', 'warmup', 'services', 'iptables'], DEFAULTS, SMOKE);
  if (f === 'help' || f === 'cleanup') return f;
  const { one } = f;
  return {
    reps: one('reps', 1, 100), count: one('count', 1, 100_000), warmup: one('warmup', 0, 10_000), services: one('services', 0, 60_000),
    iptables: iptablesFlag(f.raw.iptables), quiet: f.quiet, maxMinutes: f.maxMinutes, out: f.out,
  };
}

function lanesOf(o: NodePortOptions): LaneInfo[] {
  return [
    { id: 'floor', label: 'floor (the pod\'s own address, routed: no Service, no NAT)', color: '#7f7f7f' },
    { id: 'sluice', label: 'sluice (SNAT, the default)', color: '#1a9850' },
    { id: 'sluice-dsr', label: 'sluice --dsr', color: '#66bd63' },
    { id: 'nft', label: 'kube-proxy nftables', color: '#2c7bb6' },
    { id: 'iptables', label: `kube-proxy iptables${o.iptables === 'nft' ? ' (nft backend)' : ' (legacy)'}`, color: '#fdae61' },
  ];
}

const LOADS: { [id: string]: (o: NodePortOptions) => TestbedLaneSpec['load'] } = {
  floor: () => ({ kind: 'none' }),
  sluice: () => ({ kind: 'sluice', args: [] }),
  'sluice-dsr': () => ({ kind: 'sluice', args: ['--dsr'] }),
  nft: () => ({ kind: 'nft' }),
  iptables: (o) => ({ kind: 'iptables', backend: o.iptables }),
};

/** The other Services, then the probe: a NodePort whose one endpoint is the server pod on node-b. */
function services(others: number): BenchService[] {
  const all = fakeServices(others + 1);
  all[others] = { ...all[others], name: 'web', nodePort: NODE_PORT, targetPort: BACKEND_PORT, endpoints: [SERVER_POD.ip], node: SERVER_POD.node };
  return all;
}

/** Where lane l's GETs go: the backend itself on the floor (the external client routes to it through node-a), else the NodePort. */
const targetOf = (l: TestbedLane) => (l.spec.id === 'floor' ? { ip: SERVER_POD.ip, port: BACKEND_PORT } : { ip: NODES[0].ip, port: NODE_PORT });

function routeToBackend(l: TestbedLane): void {
  run(['ip', '-n', l.state!.external.netns, 'route', 'add', `${SERVER_POD.ip}/32`, 'via', NODES[0].ip]);
}

const loadAvg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
/** One httpget run from lane l's external client, after a bounded wait for a quiet machine (a lane that failed to load: its error). */
async function sample(o: NodePortOptions, httpget: string, l: TestbedLane, base: Pick<NodePortSample, 'lane' | 'rep' | 'slot'>): Promise<NodePortSample> {
  if (l.error) return { ...base, bgBusy: -1, loadAvg: loadAvg(), error: `load failed: ${l.error}` };
  const bgBusy = await waitQuiet(o.quiet), load = loadAvg();
  const to = targetOf(l);
  const argv = nsenter(l.state!.external.netns, ['taskset', '-c', String(CLIENT_CPU), httpget, '-a', to.ip, '-p', String(to.port),
    '-c', String(o.count), '-w', String(o.warmup), '-l', String(SAMPLE_LIMIT_S)]);
  try {
    return { ...base, bgBusy, loadAvg: load, ...JSON.parse((await runAsync(argv, { timeoutMs: (SAMPLE_LIMIT_S + 10) * 1000 })).stdout) };
  } catch (e) {
    const reason = e instanceof CommandError ? e.reason : (e as Error).message;
    const partial = /\{.*\}/.exec(reason)?.[0]; // httpget exits 1 when tries failed, after printing what it got
    return { ...base, bgBusy, loadAvg: load, ...(partial ? JSON.parse(partial) : {}), error: reason.split('\n')[0].slice(0, 300) };
  }
}

export async function benchNodePort(args: readonly string[]): Promise<void> {
  let o: NodePortOptions | 'help' | 'cleanup';
  try {
    o = parseOptions(args);
  } catch (e) {
    console.error(`bench nodeport: ${(e as Error).message}\n${NODEPORT_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o === 'help') return void console.log(NODEPORT_USAGE);
  requireRoot('nodeport');
  const t0 = Date.now();
  for (const line of removeLeftovers()) log(`removed, left by a killed run: ${line}`);
  if (o === 'cleanup') return;
  const opts = o;
  ensureCommands(['ip', 'nsenter', 'taskset', 'timeout', 'nft', o.iptables === 'legacy' ? 'iptables-legacy-restore' : 'iptables-nft-restore']);
  buildSluice();
  const tools = buildTools(['httpd', 'httpget']);
  const out = isAbsolute(o.out) ? o.out : join(ROOT, o.out);
  mkdirSync(out, { recursive: true });
  const lanes = lanesOf(o);
  const samples: NodePortSample[] = [];
  const notes: string[] = [];
  const target = `${NODES[0].ip}:${NODE_PORT} (the floor: ${SERVER_POD.ip}:${BACKEND_PORT})`;
  log(`nodeport: making ${lanes.length} lanes (${lanes.map((l) => l.id).join(', ')}), ${o.services} other Services; GETs to ${target}`);
  const opened = await testbedRun({
    what: 'nodeport', tools, reps: o.reps, deadline: t0 + o.maxMinutes * 60_000, log,
    specs: lanes.map((l) => ({ id: l.id, label: l.label, mtu: 1500, load: LOADS[l.id](opts) })),
    inputs: (scratch) => writeInputs(scratch, services(opts.services)),
    prepare: (l) => {
      if (l.spec.id === 'floor') routeToBackend(l);
    },
    servers: (r, ls) => {
      const limit = r.serverLimitSeconds();
      for (const l of ls) r.servers.start(nsenter(podNetns(l, podKey(SERVER_POD)), ['taskset', '-c', String(SERVER_CPU), r.tools.httpd, '-p', String(BACKEND_PORT), '-l', String(limit)]), limit);
    },
    visit: async (r, l, rep, slot) => {
      if (l.error && rep > 1) return;
      const s = await sample(opts, r.tools.httpget, l, { lane: l.spec.id, rep, slot });
      samples.push(s);
      log(`  ${s.lane.padEnd(10)} rep ${rep}: ${s.error ? `error: ${s.error}` : `connect p50 ${s.connect!.p50} p99 ${s.connect!.p99}, total p50 ${s.total!.p50} ` +
        `p99 ${s.total!.p99} µs`} (busy ${s.bgBusy}, load ${s.loadAvg})`);
    },
    after: (ls) => {
      // A failed GET is a SYN or an answer lost: a datapath drop, if the datapath counted one.
      for (const l of ls.filter((x) => x.spec.id.startsWith('sluice') && !x.error)) {
        const drops = ['node-a', 'node-b'].flatMap((n) => Object.entries(laneStats(l, n) ?? {})
          .filter(([k, v]) => /DROP|REJECTED|NO_ROOM/.test(k) && v > 0).map(([k, v]) => `${n} ${k} ${v}`));
        notes.push(`Drops the datapath counted in the ${l.spec.id} lane (sl_stats): ${drops.length ? drops.join(', ') : 'none'}.`);
      }
      const dsr = ls.find((l) => l.spec.id === 'sluice-dsr' && !l.error);
      if (!dsr) return;
      const sent = laneStats(dsr, 'node-a')?.SL_STAT_DSR_SENT, received = laneStats(dsr, 'node-b')?.SL_STAT_DSR_RECEIVED;
      notes.push(`In the --dsr lane node-a sent ${sent ?? '?'} packets with the DSR option and node-b took ${received ?? '?'} (sl_stats).`);
      if (!sent) log('warning: the --dsr lane sent nothing with the DSR option: its figures are not DSR\'s');
    },
  });
  report(o, args, lanes, samples, opened, notes, out, t0);
}

function report(o: NodePortOptions, args: readonly string[], lanes: LaneInfo[], samples: NodePortSample[], opened: TestbedLane[], notes: string[], out: string, t0: number): void {
  writeFileSync(join(out, 'nodeport.jsonl'), samples.map((s) => JSON.stringify(s) + '\n').join(''));
  const rows = nodePortRows(samples, lanes, o.quiet.threshold, (id) => opened.find((l) => l.spec.id === id)?.loadSeconds ?? NaN);
  const goals = nodePortGoals(rows);
  notes.push(...nodePortFloor(rows));
  const loads = samples.map((s) => s.loadAvg), busy = samples.map((s) => s.bgBusy).filter((b) => b >= 0);
  const date = new Date().toISOString().slice(0, 10), command = `npm run bench -- nodeport${args.length ? ` ${args.join(' ')}` : ''}`;
  const facts = {
    date, machine: machine(), minutes: (Date.now() - t0) / 60_000, reps: o.reps, count: o.count, services: o.services,
    load: { min: Math.min(...loads), median: loads.length ? median(loads) : NaN, max: Math.max(...loads) },
    busy: { overThreshold: busy.filter((b) => b >= o.quiet.threshold).length, samples: busy.length, threshold: o.quiet.threshold }, notes,
  };
  console.log(`\nNodePort, HTTP GET of 612 bytes through node-a to node-b (µs, medians over reps):\n${nodePortTable(rows, lanes)}`);
  console.log(`\ngoals:\n${goalLines(goals)}`);
  for (const n of notes) console.log(n);
  writeFileSync(join(out, 'nodeport.svg'), nodePortChart(rows, lanes, `${o.services.toLocaleString('en-US')} other Services; ${date}, ${facts.machine}; load average ${facts.load.min}-${facts.load.max}`));
  writeFileSync(join(out, 'nodeport.md'), nodePortMarkdown(rows, goals, lanes, facts));
  log(`wrote ${out}/nodeport.jsonl, nodeport.svg, nodeport.md (${command})`);
}
