// The datapath benchmark (issue 4): sluice against kube-proxy's iptables and
// nftables modes and the floor, in one run. Connect latency to the last of N
// ClusterIP services, and throughput through a ClusterIP at two MTUs. Needs
// root; makes network namespaces sldp<pid>-*, pins under
// /sys/fs/bpf/sluice-bench/<pid> and scratch files, and removes them all on
// exit, signals included; `--cleanup` removes what a killed run left. See
// bench/datapath/options.ts for the flags.
import { mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { median } from './stats.ts';
import { COMMANDS, type Dataplane } from './datapath/dataplanes.ts';
import { latencyChart } from './datapath/chart.ts';
import { measureLatency, type LatencySample } from './datapath/latency.ts';
import { DATAPATH_USAGE, parseDatapathOptions, type DatapathOptions } from './datapath/options.ts';
import { goalLines, latencyTable, markdownSection, throughputTable } from './datapath/report.ts';
import { BenchRun, type Tools } from './datapath/benchRun.ts';
import { removeLeftovers } from './datapath/leftovers.ts';
import { buildSluice, buildTools, ensureCommands, log, machine, requireRoot, ROOT } from './datapath/setup.ts';
import { goals, latencyRows, throughputRows } from './datapath/summary.ts';
import { measureThroughput, type ThroughputSample } from './datapath/throughput.ts';

/** The Debian packages, the datapath object, the compiler and the two C tools; returns the tools. */
function prepare(dps: readonly Dataplane[], needIperf: boolean): Tools {
  ensureCommands(['ip', 'nsenter', 'taskset', 'timeout', ...(needIperf ? ['iperf3' as const] : []), ...dps.flatMap((d) => COMMANDS[d])]);
  if (dps.includes('sluice')) buildSluice();
  return buildTools(['connlat', 'acceptd']);
}

export async function benchDatapath(args: readonly string[]): Promise<void> {
  let o: DatapathOptions | 'help' | 'cleanup';
  try {
    o = parseDatapathOptions(args);
  } catch (e) {
    console.error(`bench datapath: ${(e as Error).message}\n${DATAPATH_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (o === 'help') return void console.log(DATAPATH_USAGE);
  requireRoot('datapath');
  const t0 = Date.now();
  const leftovers = removeLeftovers();
  for (const line of leftovers) log(`removed, left by a killed run: ${line}`);
  if (o === 'cleanup') return log(leftovers.length ? 'cleanup done' : 'nothing left by earlier runs');
  const tools = prepare(o.dataplanes, o.throughput);
  const out = isAbsolute(o.out) ? o.out : join(ROOT, o.out);
  mkdirSync(out, { recursive: true });
  const files = { lat: join(out, 'datapath-latency.jsonl'), tput: join(out, 'datapath-throughput.jsonl') };
  const run = new BenchRun(tools, t0 + o.maxMinutes * 60_000);
  const onSignal = (sig: NodeJS.Signals) => {
    const problems = run.close();
    console.error(`bench datapath: stopped by ${sig}; cleaned up${problems.length ? ` except: ${problems.join('; ')}` : ''}`);
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  const lat: LatencySample[] = [], tput: ThroughputSample[] = [];
  try {
    if (o.latency) {
      await measureLatency(run, { sizes: o.sizes, dataplanes: o.dataplanes, reps: o.reps, connects: o.connects, warmup: o.warmup, quiet: o.quiet },
        (s) => {
          lat.push(s);
          log(`  ${s.dataplane.padEnd(6)} n=${s.services} rep ${s.rep}: ${s.error ? `error: ${s.error}` : `p50 ${s.p50} p99 ${s.p99} µs`} (busy ${s.bgBusy})`);
        }, log);
    }
    if (o.throughput) {
      await measureThroughput(run, { mtus: o.mtus, dataplanes: o.dataplanes, services: o.tputServices, reps: o.tputReps, seconds: o.tputSeconds, quiet: o.quiet },
        (s) => {
          tput.push(s);
          log(`  ${s.dataplane.padEnd(6)} mtu ${s.mtu} rep ${s.rep}: ${s.error ? `error: ${s.error}` : `${s.gbps} Gbit/s, ${s.coreSecondsPerGbit} core-s/Gbit`} (busy ${s.bgBusy})`);
        }, log);
    }
  } finally {
    const problems = run.close();
    for (const s of signals) process.off(s, onSignal);
    if (problems.length) console.error(`bench datapath: cleanup left: ${problems.join('; ')}`);
  }
  // written only by a run that got here, so a stopped run leaves the last complete results as they were
  const jsonl = (xs: readonly object[]) => xs.map((x) => JSON.stringify(x) + '\n').join('');
  if (o.latency) writeFileSync(files.lat, jsonl(lat));
  if (o.throughput) writeFileSync(files.tput, jsonl(tput));
  const latRows = latencyRows(lat, o.dataplanes, o.sizes, o.quiet.threshold), tputRows = throughputRows(tput, o.dataplanes, o.mtus, o.quiet.threshold);
  const g = goals(latRows, tputRows);
  const busy = [...lat, ...tput].map((s) => s.bgBusy).filter((b) => b >= 0);
  const facts = {
    command: `npm run bench -- datapath${args.length ? ` ${args.join(' ')}` : ''}`, date: new Date().toISOString().slice(0, 10), machine: machine(),
    minutes: (Date.now() - t0) / 60_000, maxMinutes: o.maxMinutes, timeBoundHit: run.outOfTime(),
    busy: { median: busy.length ? median(busy) : NaN, max: Math.max(...busy), overThreshold: busy.filter((b) => b >= o.quiet.threshold).length, samples: busy.length, threshold: o.quiet.threshold },
    latency: o.latency ? { reps: o.reps, connects: o.connects, warmup: o.warmup } : undefined,
    throughput: o.throughput ? { reps: o.tputReps, seconds: o.tputSeconds, services: o.tputServices } : undefined,
  };
  if (o.latency) {
    console.log(`\nconnect latency, client pod -> ClusterIP of the last service added (µs; medians over reps):\n${latencyTable(latRows)}`);
    writeFileSync(join(out, 'datapath.svg'), latencyChart(latRows, 'TCP connect latency to a ClusterIP, p50',
      `last service added, 5 endpoints each; ${facts.date}, ${facts.machine}`));
  }
  if (o.throughput) console.log(`\nthroughput through a ClusterIP (iperf3, one stream, ${o.tputServices} services):\n${throughputTable(tputRows)}`);
  console.log(`\ngoals:\n${goalLines(g)}`);
  console.log(`\nbusy fraction before samples: median ${facts.busy.median.toFixed(2)}, max ${facts.busy.max.toFixed(2)}, ` +
    `${facts.busy.overThreshold}/${facts.busy.samples} above ${o.quiet.threshold}; ${facts.minutes.toFixed(1)} min` +
    (facts.timeBoundHit ? ` (time bound of ${o.maxMinutes} min reached: some reps were not taken)` : ''));
  writeFileSync(join(out, 'datapath.md'), markdownSection(latRows, tputRows, g, facts));
  log(`wrote ${out}/datapath-*.jsonl, datapath.svg, datapath.md`);
}
