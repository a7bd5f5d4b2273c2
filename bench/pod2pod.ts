// The pod-to-pod benchmark (issue 9 item 3, the seed's first chart): one
// qperf tcp_bw stream from a pod on node-a to a pod on node-b, at MTU 1440
// and 8940, for the floor (plain routing), plain routing with kube-proxy's
// iptables rules for the Services loaded on both nodes, and sluice on both
// nodes (the same Services), side by side in one run: every lane is a
// testbed (bench/datapath/testbedLane.ts) and all are up at once; reps go
// through them in rotating order, each sample after a bounded wait for a
// quiet machine. A fifth lane, direct, joins the same two pods by one veth
// pair of their own, no node between them: what the path's forwarding, which
// a datapath can remove, adds to the pods' own work. Needs root. Writes
// <out>/pod2pod.{jsonl,md,svg}.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { run, tryRun } from '../runtime/exec/command.ts';
import { median } from './stats.ts';
import { CLIENT_CPU, SERVER_CPU } from './datapath/lane.ts';
import { removeLeftovers } from './datapath/leftovers.ts';
import { ints, iptablesFlag, parseBenchFlags } from './datapath/options.ts';
import { pod2podChart, pod2podDirect, pod2podGoals, pod2podMarkdown, pod2podRows, pod2podTable, type LaneInfo, type Pod2podSample } from './datapath/pod2podReport.ts';
import { qperfRun, qperfServer } from './datapath/qperf.ts';
import { DEFAULT_QUIET, waitQuiet } from './datapath/quiet.ts';
import { fakeServices } from './datapath/services.ts';
import { buildSluice, ensureCommands, log, machine, requireRoot, ROOT } from './datapath/setup.ts';
import { goalLines } from './datapath/report.ts';
import { laneStats, podNetns, type TestbedLane, type TestbedLaneSpec } from './datapath/testbedLane.ts';
import { testbedRun } from './datapath/testbedRun.ts';
import { CLIENT_POD, podKey, SERVER_POD, writeInputs } from './datapath/twoNodes.ts';

export const POD2POD_USAGE = `usage: npm run bench -- pod2pod [flags]     (root)

qperf tcp_bw (one stream) from a pod on node-a to a pod on node-b, for the
floor (plain routing), plain routing with kube-proxy's iptables rules for
the Services loaded on both nodes, and sluice on both nodes (and, when this
build's \`sluice apply\` has --no-fast-path, sluice with it: a fourth lane),
and direct (the same two pods on one veth pair: no node between them),
at each MTU, side by side in one run. Throughput, and CPU per Gbit (the qperf processes'
own, and the whole machine's). Writes <out>/pod2pod.{jsonl,md,svg}.

  --reps N              samples per lane and MTU (default 8)
  --seconds N           qperf -t (default 5)
  --mtus A,B            (default 1440,8940)
  --services N          Services loaded (default 5000)
  --iptables legacy|nft kube-proxy's iptables backend (default legacy)
  --quiet-max-ms N      longest wait for a quiet machine per sample (default ${DEFAULT_QUIET.maxMs})
  --quiet-below F       busy fraction counted as quiet (default ${DEFAULT_QUIET.threshold})
  --max-minutes N       no sample starts after N minutes (default 30)
  --out DIR             where results go (default bench/results)
  --smoke               --reps 1 --seconds 2 --services 100 --mtus 1440
                        --quiet-max-ms 500 --out build/bench/pod2pod-smoke
  --cleanup             only remove what killed runs left, then exit
`;

interface Pod2podOptions {
  reps: number;
  seconds: number;
  mtus: number[];
  services: number;
  iptables: 'legacy' | 'nft';
  quiet: typeof DEFAULT_QUIET;
  maxMinutes: number;
  out: string;
}

const DEFAULTS = { reps: '8', seconds: '5', mtus: '1440,8940', services: '5000', 'quiet-max-ms': String(DEFAULT_QUIET.maxMs), 'max-minutes': '30', out: 'bench/results' };
const SMOKE = { reps: '1', seconds: '2', mtus: '1440', services: '100', 'quiet-max-ms': '500', 'max-minutes': '10', out: 'build/bench/pod2pod-smoke' };

function parseOptions(args: readonly string[]): Pod2podOptions | 'help' | 'cleanup' {
  const f = parseBenchFlags(args, ['reps', 'seconds', 'mtus', 'services', 'iptables'], DEFAULTS, SMOKE);
  if (f === 'help' || f === 'cleanup') return f;
  const { get, one } = f;
  return {
    reps: one('reps', 1, 100), seconds: one('seconds', 1, 60), mtus: ints('mtus', get('mtus'), 1280, 65_000), services: one('services', 1, 60_000),
    iptables: iptablesFlag(f.raw.iptables), quiet: f.quiet, maxMinutes: f.maxMinutes, out: f.out,
  };
}

/** The flag of `sluice apply` that turns its fast path (forwarding past the stack) off, when this build has it. */
const NO_FAST_PATH = '--no-fast-path';
const MAIN = new URL('../runtime/cli/main.ts', import.meta.url).pathname;
const applyHas = (flag: string) => tryRun(['node', MAIN, 'apply', '--help']).stdout.includes(flag);

function lanesOf(o: Pod2podOptions, fastPathFlag: boolean): LaneInfo[] {
  const n = o.services.toLocaleString('en-US');
  return [
    { id: 'direct', label: 'direct (the two pods on one veth pair, no node)', color: '#d9d9d9' },
    { id: 'floor', label: 'floor (plain routing, no sluice)', color: '#7f7f7f' },
    { id: 'iptables', label: `plain routing + kube-proxy iptables${o.iptables === 'nft' ? ' (nft backend)' : ''}, ${n} Services`, color: '#fdae61' },
    { id: 'sluice', label: `sluice, ${n} Services`, color: '#1a9850' },
    ...(fastPathFlag ? [{ id: 'sluice-off', label: `sluice ${NO_FAST_PATH}, ${n} Services`, color: '#a6d96a' }] : []),
  ];
}

function loadOf(id: string, o: Pod2podOptions): TestbedLaneSpec['load'] {
  if (id === 'floor' || id === 'direct') return { kind: 'none' };
  if (id === 'iptables') return { kind: 'iptables', backend: o.iptables };
  return { kind: 'sluice', args: id === 'sluice-off' ? [NO_FAST_PATH] : [] };
}

/** The direct lane's link: a veth pair from the client pod to the server pod, addresses of its own, the lane's MTU. */
const DIRECT = { ifname: 'sl-direct', client: '169.254.77.1/30', server: '169.254.77.2/30' };
const serverIpOf = (l: TestbedLane) => (l.spec.id === 'direct' ? DIRECT.server.split('/')[0] : SERVER_POD.ip);

function linkPods(l: TestbedLane): void {
  const client = podNetns(l, podKey(CLIENT_POD)), server = podNetns(l, podKey(SERVER_POD));
  run(['ip', '-n', client, 'link', 'add', DIRECT.ifname, 'type', 'veth', 'peer', 'name', DIRECT.ifname, 'netns', server]);
  for (const [ns, addr] of [[client, DIRECT.client], [server, DIRECT.server]]) {
    run(['ip', '-n', ns, 'addr', 'add', addr, 'dev', DIRECT.ifname]);
    run(['ip', '-n', ns, 'link', 'set', DIRECT.ifname, 'mtu', String(l.spec.mtu), 'up']); // each end: the peer does not take the first's
  }
}

const loadAvg = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

/** One qperf run through lane l, after a bounded wait for a quiet machine (a lane that failed to load: its error). */
async function sample(o: Pod2podOptions, l: TestbedLane, base: Pick<Pod2podSample, 'lane' | 'mtu' | 'rep' | 'slot'>): Promise<Pod2podSample> {
  if (l.error) return { ...base, bgBusy: -1, loadAvg: loadAvg(), error: `load failed: ${l.error}` };
  const bgBusy = await waitQuiet(o.quiet), load = loadAvg();
  try {
    const r = await qperfRun(podNetns(l, podKey(CLIENT_POD)), CLIENT_CPU, podNetns(l, podKey(SERVER_POD)), serverIpOf(l), o.seconds);
    return { ...base, bgBusy, loadAvg: load, gbps: round(r.gbps, 3), busyCores: round(r.busyCores, 3),
      machineCoreSecondsPerGbit: round(r.machineCoreSecondsPerGbit, 4), processCoreSecondsPerGbit: round(r.processCoreSecondsPerGbit, 4) };
  } catch (e) {
    return { ...base, bgBusy, loadAvg: load, error: (e as Error).message.split('\n')[0].slice(0, 300) };
  }
}

export async function benchPod2pod(args: readonly string[]): Promise<void> {
  let o: Pod2podOptions | 'help' | 'cleanup';
  try {
    o = parseOptions(args);
  } catch (e) {
    console.error(`bench pod2pod: ${(e as Error).message}\n${POD2POD_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o === 'help') return void console.log(POD2POD_USAGE);
  requireRoot('pod2pod');
  const t0 = Date.now();
  for (const line of removeLeftovers()) log(`removed, left by a killed run: ${line}`);
  if (o === 'cleanup') return;
  ensureCommands(['ip', 'nsenter', 'taskset', 'timeout', 'qperf', o.iptables === 'legacy' ? 'iptables-legacy-restore' : 'iptables-nft-restore']);
  buildSluice();
  const out = isAbsolute(o.out) ? o.out : join(ROOT, o.out);
  mkdirSync(out, { recursive: true });
  const fastPathFlag = applyHas(NO_FAST_PATH);
  const lanes = lanesOf(o, fastPathFlag);
  const samples: Pod2podSample[] = [];
  const notes: string[] = [];
  log(`pod2pod: making ${lanes.length * o.mtus.length} lanes (${lanes.map((l) => l.id).join(', ')} x MTU ${o.mtus.join(', ')}), ${o.services} Services`);
  const opened = await testbedRun({
    what: 'pod2pod', tools: {}, reps: o.reps, deadline: t0 + o.maxMinutes * 60_000, log,
    specs: o.mtus.flatMap((mtu) => lanes.map((l) => ({ id: l.id, label: l.label, mtu, load: loadOf(l.id, o) }))),
    inputs: (scratch) => writeInputs(scratch, fakeServices(o.services)),
    prepare: (l) => {
      if (l.spec.id === 'direct') linkPods(l);
    },
    servers: (r, ls) => {
      for (const l of ls) r.servers.start(qperfServer(podNetns(l, podKey(SERVER_POD)), SERVER_CPU), r.serverLimitSeconds());
    },
    after: (ls) => {
      for (const l of ls.filter((x) => x.spec.load.kind === 'sluice' && !x.error)) {
        const stats = ['node-a', 'node-b'].map((n) => laneStats(l, n) ?? {});
        const sum = (names: string[]) => stats.reduce((t, s) => t + names.reduce((u, k) => u + (s[k] ?? 0), 0), 0);
        notes.push(`${l.spec.label}, MTU ${l.spec.mtu}: ${sum(['SL_STAT_FWD_PEER', 'SL_STAT_FWD_DIRECT', 'SL_STAT_FWD_NEIGH']).toLocaleString('en-US')} packets ` +
          `forwarded past the stack, ${sum(['SL_STAT_FWD_STACK']).toLocaleString('en-US')} handed to it (sl_stats of both nodes).`);
      }
    },
    visit: async (_run, l, rep, slot) => {
      if (l.error && rep > 1) return;
      const s = await sample(o, l, { lane: l.spec.id, mtu: l.spec.mtu, rep, slot });
      samples.push(s);
      log(`  ${s.lane.padEnd(10)} mtu ${s.mtu} rep ${rep}: ${s.error ? `error: ${s.error}` : `${s.gbps} Gbit/s, ${s.processCoreSecondsPerGbit} core-s/Gbit (qperf), ` +
        `${s.machineCoreSecondsPerGbit} (machine)`} (busy ${s.bgBusy}, load ${s.loadAvg})`);
    },
  });
  report(o, args, lanes, samples, opened, out, t0, fastPathFlag, notes);
}

function report(o: Pod2podOptions, args: readonly string[], lanes: LaneInfo[], samples: Pod2podSample[], opened: TestbedLane[], out: string, t0: number,
  fastPathFlag: boolean, notes: string[]): void {
  writeFileSync(join(out, 'pod2pod.jsonl'), samples.map((s) => JSON.stringify(s) + '\n').join(''));
  const loadSeconds = (id: string, mtu: number) => opened.find((l) => l.spec.id === id && l.spec.mtu === mtu)?.loadSeconds ?? NaN;
  const rows = pod2podRows(samples, lanes, o.mtus, o.quiet.threshold, loadSeconds);
  const goals = pod2podGoals(rows);
  notes.push(...pod2podDirect(rows));
  const loads = samples.map((s) => s.loadAvg), busy = samples.map((s) => s.bgBusy).filter((b) => b >= 0);
  const date = new Date().toISOString().slice(0, 10);
  const facts = {
    command: `npm run bench -- pod2pod${args.length ? ` ${args.join(' ')}` : ''}`, date, machine: machine(), minutes: (Date.now() - t0) / 60_000,
    reps: o.reps, seconds: o.seconds, services: o.services, iptables: o.iptables,
    notes,
    fastPath: fastPathFlag ? `sluice ran as built, and with \`${NO_FAST_PATH}\`.` : `sluice ran as built (this build has no \`${NO_FAST_PATH}\`).`,
    load: { min: Math.min(...loads), median: loads.length ? median(loads) : NaN, max: Math.max(...loads) },
    busy: { median: busy.length ? median(busy) : NaN, overThreshold: busy.filter((b) => b >= o.quiet.threshold).length, samples: busy.length, threshold: o.quiet.threshold },
  };
  console.log(`\npod to pod, qperf tcp_bw, one stream (medians over reps):\n${pod2podTable(rows, lanes)}`);
  console.log(`\ngoals:\n${goalLines(goals)}`);
  for (const n of notes) console.log(n);
  writeFileSync(join(out, 'pod2pod.svg'), pod2podChart(rows, lanes, `${o.services.toLocaleString('en-US')} Services; ${date}, ${facts.machine}; load average ${facts.load.min}-${facts.load.max}`));
  writeFileSync(join(out, 'pod2pod.md'), pod2podMarkdown(rows, goals, lanes, facts));
  log(`wrote ${out}/pod2pod.jsonl, pod2pod.svg, pod2pod.md (${facts.command})`);
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
