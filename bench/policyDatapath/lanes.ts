// Connect latency and one-stream throughput from the client pod to the
// server pods of a lane (bench/datapath/lane.ts), three lanes side by side:
// the floor (no sluice), sluice with no NetworkPolicy, and sluice with the
// servers selected by `rules` rules (cluster.ts), the client allowed by its
// labels. sluice is loaded by `sluice apply` of the lane's snapshot. The
// client connects to the pods' own addresses (no Service): what policy adds
// to a new flow is all that differs. Reps go through the lanes in rotating
// order after a bounded wait for a quiet machine, as the datapath benchmark's.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError, nsenter, runAsync, type Argv } from '../../runtime/exec/command.ts';
import type { BenchRun } from '../datapath/benchRun.ts';
import { BACKEND_IFACES, BACKEND_IPS, CLIENT_CPU, CLIENT_IFACE, laneOf, makeLane, primeNeighbours, SERVER_CPU, type Lane } from '../datapath/lane.ts';
import { PIN_BASE } from '../datapath/leftovers.ts';
import { waitQuiet, type QuietWait } from '../datapath/quiet.ts';
import { iperfRun } from '../datapath/throughput.ts';
import { NODE, snapshotOf } from './cluster.ts';

export const VARIANTS = ['floor', 'none', 'rules'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface PolicyLane { variant: Variant; lane: Lane; loadSeconds?: number; error?: string }

const SLUICE_MAIN = new URL('../../runtime/cli/main.ts', import.meta.url).pathname;

/** Makes and loads one lane per variant; a lane that fails to load keeps its error. */
export async function openLanes(r: BenchRun, rules: number, log: (line: string) => void): Promise<PolicyLane[]> {
  const out: PolicyLane[] = [];
  for (const variant of VARIANTS) {
    const lane = laneOf(r.prefix, `pol-${variant}`, 1500);
    makeLane(lane, () => {}); // named with the run's prefix: BenchRun.close() removes it whatever happens
    const entry: PolicyLane = { variant, lane };
    if (variant !== 'floor') {
      const file = join(r.scratch, `policy-${variant}.json`);
      writeFileSync(file, JSON.stringify(snapshotOf(variant === 'rules' ? rules : 0)));
      const argv: Argv = ['node', SLUICE_MAIN, 'apply', file, '--node', NODE, '--pin-root', join(PIN_BASE, String(process.pid), lane.name),
        '--netns', lane.node, '--pod-ifaces', [CLIENT_IFACE, ...BACKEND_IFACES].join(',')];
      try {
        const seconds = (await runAsync(argv, { timeoutMs: 300_000 })).seconds;
        entry.loadSeconds = seconds;
        log(`lane ${variant}: loaded in ${seconds.toFixed(2)} s${variant === 'rules' ? ` (${rules} rules)` : ''}`);
      } catch (e) {
        entry.error = (e instanceof CommandError ? e.reason : (e as Error).message).split('\n')[0].slice(0, 200);
        log(`lane ${variant}: load failed: ${entry.error}`);
      }
    }
    out.push(entry);
  }
  return out;
}

export interface ConnectSample { variant: Variant; rep: number; slot: number; bgBusy: number; p50?: number; p90?: number; p99?: number; count?: number; failures?: number; error?: string }
export interface TputSample { variant: Variant; rep: number; slot: number; bgBusy: number; gbps?: number; busyCores?: number; coreSecondsPerGbit?: number; error?: string }

const rotate = <T>(xs: readonly T[], by: number) => xs.map((_, i) => xs[(i + by) % xs.length]);
const SAMPLE_LIMIT_S = 60;

export async function measureConnect(r: BenchRun, lanes: readonly PolicyLane[], o: { reps: number; connects: number; warmup: number; quiet: QuietWait },
  emit: (s: ConnectSample) => void, log: (line: string) => void): Promise<void> {
  const limit = r.serverLimitSeconds();
  for (const ns of lanes.filter((l) => !l.error).flatMap((l) => l.lane.backends)) {
    r.servers.start(nsenter(ns, ['taskset', '-c', String(SERVER_CPU), r.tools.acceptd, '-p', '80', '-l', String(limit)]), limit);
  }
  await sleep(300);
  for (const l of lanes) primeNeighbours(l.lane, r.tools.connlat, 80);
  for (let rep = 1; rep <= o.reps && !r.outOfTime(); rep++) {
    log(`connect: rep ${rep} of ${o.reps}`);
    for (const [slot, l] of rotate(lanes, rep - 1).entries()) {
      if (l.error) continue;
      const bgBusy = await waitQuiet(o.quiet);
      const argv = nsenter(l.lane.client, ['taskset', '-c', String(CLIENT_CPU), r.tools.connlat, '-a', BACKEND_IPS.join(','), '-p', '80',
        '-c', String(o.connects), '-w', String(o.warmup), '-l', String(SAMPLE_LIMIT_S)]);
      try {
        emit({ variant: l.variant, rep, slot, bgBusy, ...JSON.parse((await runAsync(argv, { timeoutMs: (SAMPLE_LIMIT_S + 10) * 1000 })).stdout) });
      } catch (e) {
        emit({ variant: l.variant, rep, slot, bgBusy, error: (e instanceof CommandError ? e.reason : (e as Error).message).split('\n')[0].slice(0, 300) });
      }
    }
  }
}

export async function measureThroughput(r: BenchRun, lanes: readonly PolicyLane[], o: { reps: number; seconds: number; quiet: QuietWait },
  emit: (s: TputSample) => void, log: (line: string) => void): Promise<void> {
  for (let rep = 1; rep <= o.reps && !r.outOfTime(); rep++) {
    log(`throughput: rep ${rep} of ${o.reps}`);
    for (const [slot, l] of rotate(lanes, rep - 1).entries()) {
      if (l.error) continue;
      const m = await iperfRun(r, l.lane, { ip: BACKEND_IPS[0], port: 5201 }, o);
      emit({ variant: l.variant, rep, slot, bgBusy: m.bgBusy, gbps: m.gbps, busyCores: m.busyCores, coreSecondsPerGbit: m.coreSecondsPerGbit, error: m.error });
    }
  }
}
