// Connect latency to the last service added, for each number of services.
// One lane per (dataplane, number of services) plus one for the floor, all
// loaded before the first sample; then rep by rep every lane in turn (the
// order rotates every rep), so drift of the machine hits all of them alike,
// sizes included. Each sample follows a bounded wait for a quiet machine, and
// is connlat's warm-up plus `connects` new connections, as percentiles.
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError, nsenter, runAsync } from '../../runtime/exec/command.ts';
import { CLIENT_CPU, primeNeighbours, SERVER_CPU } from './lane.ts';
import { waitQuiet, type QuietWait } from './quiet.ts';
import type { BenchRun } from './benchRun.ts';
import type { Dataplane } from './dataplanes.ts';

export interface LatencyOptions {
  sizes: number[];
  dataplanes: Dataplane[];
  reps: number;
  connects: number;
  warmup: number;
  quiet: QuietWait;
}

export interface LatencySample {
  dataplane: Dataplane;
  services: number; // 0 for the floor
  rep: number;
  slot: number; // position in this rep's order
  bgBusy: number; // busy fraction of the machine just before
  loadSeconds: number;
  target: string;
  count?: number;
  failures?: number;
  p50?: number;
  p90?: number;
  p99?: number;
  min?: number;
  max?: number;
  mean?: number;
  seconds?: number;
  error?: string;
}

const SAMPLE_LIMIT_S = 60;

export async function measureLatency(r: BenchRun, o: LatencyOptions, emit: (s: LatencySample) => void, log: (line: string) => void): Promise<void> {
  const specs = [{ dp: 'floor' as const, services: 0, mtu: 1500 },
    ...o.sizes.flatMap((n) => o.dataplanes.filter((dp) => dp !== 'floor').map((dp) => ({ dp, services: n, mtu: 1500 })))];
  log(`latency: loading ${specs.length} lanes: ${o.dataplanes.join(', ')} x ${o.sizes.join(', ')} services`);
  const lanes = await r.openLanes(specs, 'http', log);
  try {
    const limit = r.serverLimitSeconds(); // a server outlives the run by at most this, whatever happens to it
    for (const ns of lanes.filter((l) => l.loaded).flatMap((l) => l.lane.backends)) {
      r.servers.start(nsenter(ns, ['taskset', '-c', String(SERVER_CPU), r.tools.acceptd, '-p', '80', '-l', String(limit)]), limit);
    }
    await sleep(300);
    for (const { lane } of lanes) primeNeighbours(lane, r.tools.connlat, 80);
    await r.eachRep('latency', o.reps, lanes, log, async (l, rep, slot) => {
      const base = { dataplane: l.dp, services: l.services, rep, slot, loadSeconds: l.loaded?.seconds ?? -1, target: l.loaded ? `${l.loaded.target.ip}:${l.loaded.target.port}` : '' };
      if (!l.loaded) {
        if (rep === 1) emit({ ...base, bgBusy: -1, error: `load failed: ${l.error}` });
        return;
      }
      const bgBusy = await waitQuiet(o.quiet);
      const argv = nsenter(l.lane.client, ['taskset', '-c', String(CLIENT_CPU), r.tools.connlat, '-a', l.loaded.target.ip, '-p', String(l.loaded.target.port),
        '-c', String(o.connects), '-w', String(o.warmup), '-l', String(SAMPLE_LIMIT_S)]);
      try {
        emit({ ...base, bgBusy, ...JSON.parse((await runAsync(argv, { timeoutMs: (SAMPLE_LIMIT_S + 10) * 1000 })).stdout) });
      } catch (e) {
        const reason = e instanceof CommandError ? e.reason : (e as Error).message;
        const partial = /\{.*\}/.exec(reason)?.[0]; // connlat exits 1 when tries failed, after printing what it got
        emit({ ...base, bgBusy, ...(partial ? JSON.parse(partial) : {}), error: reason.split('\n')[0].slice(0, 300) });
      }
    });
  } finally {
    r.closeLanes(lanes);
  }
}
