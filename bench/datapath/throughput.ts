// Single-stream TCP throughput through a ClusterIP: one lane per (dataplane,
// MTU), each loaded with `services` services whose last is the iperf3
// service (one endpoint: iperf3's control and data connections must reach
// the same server); the floor sends to the pod IP. All lanes are up at once
// and reps go through them in rotating order, as for latency. CPU is the
// whole machine's, from /proc/stat around each iperf3 run (sender, receiver
// and forwarding all run here), plus iperf3's own figures for its two ends.
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError, nsenter, run, runAsync } from '../../runtime/exec/command.ts';
import { CLIENT_CPU, primeNeighbours, SERVER_CPU, type Lane } from './lane.ts';
import { busyFraction, cpuTicks, waitQuiet, type QuietWait } from './quiet.ts';
import type { BenchRun } from './benchRun.ts';
import type { Dataplane, Target } from './dataplanes.ts';

export interface ThroughputOptions {
  mtus: number[];
  dataplanes: Dataplane[];
  services: number;
  reps: number;
  seconds: number;
  quiet: QuietWait;
}

export interface ThroughputSample {
  dataplane: Dataplane;
  mtu: number;
  services: number;
  rep: number;
  slot: number;
  bgBusy: number;
  target: string;
  gbps?: number;
  retransmits?: number;
  busyCores?: number; // of the machine's CPUs, during the run
  coreSecondsPerGbit?: number;
  iperfSenderCpu?: number; // iperf3's cpu_utilization_percent: host_total (client), remote_total (server)
  iperfReceiverCpu?: number;
  attempt?: number; // 2 for the retry of a failed run
  error?: string;
}

const CPUS = cpus().length;

interface IperfEnd {
  sum_received: { bits_per_second: number; seconds: number };
  sum_sent: { retransmits?: number };
  cpu_utilization_percent: { host_total: number; remote_total: number };
}

export async function measureThroughput(r: BenchRun, o: ThroughputOptions, emit: (s: ThroughputSample) => void, log: (line: string) => void): Promise<void> {
  const specs = o.mtus.flatMap((mtu) => o.dataplanes.map((dp) => ({ dp, services: dp === 'floor' ? 0 : o.services, mtu })));
  if (r.outOfTime()) return log("throughput: not measured: the run's time bound is reached");
  log(`throughput: loading ${specs.length} lanes: ${o.dataplanes.join(', ')} x MTU ${o.mtus.join(', ')}, ${o.services} services`);
  const lanes = await r.openLanes(specs, 'iperf', log);
  try {
    for (const { lane } of lanes) primeNeighbours(lane, r.tools.connlat, 80);
    await r.eachRep('throughput', o.reps, lanes, log, async (l, rep, slot) => {
      const base = { dataplane: l.dp, mtu: l.lane.mtu, services: l.services, rep, slot, target: l.loaded ? `${l.loaded.target.ip}:${l.loaded.target.port}` : '' };
      if (!l.loaded) {
        if (rep === 1) emit({ ...base, bgBusy: -1, error: `load failed: ${l.error}` });
        return;
      }
      // A failed run is kept, and tried once more after a longer wait for a quiet machine: it fails
      // when something outside the run holds a CPU for long (a big `nft -f` does, for minutes,
      // in a kernel without preemption), and the server or the client is pinned there.
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        if (attempt > 1) await waitQuiet({ ...o.quiet, maxMs: RETRY_QUIET_MS });
        const s = await iperfRun(r, l.lane, l.loaded.target, o);
        emit({ ...base, ...s, ...(attempt > 1 ? { attempt } : {}) });
        if (s.error === undefined) break;
      }
    });
  } finally {
    r.closeLanes(lanes);
  }
}

const ATTEMPTS = 2;
const RETRY_QUIET_MS = 60_000;
const PORT = 5201;

type Measured = Omit<ThroughputSample, 'dataplane' | 'mtu' | 'services' | 'rep' | 'slot' | 'target'>;

/** One iperf3 run through the lane to target, against a fresh one-off server (a stalled test cannot hold up the next). */
async function iperfRun(r: BenchRun, lane: Lane, target: Target, o: ThroughputOptions): Promise<Measured> {
  const server = lane.backends[0];
  const stopServer = r.servers.start(nsenter(server, ['taskset', '-c', String(SERVER_CPU), 'iperf3', '-s', '-1', '-p', String(PORT), '--rcv-timeout', '5000']),
    o.seconds + 40);
  let bgBusy = -1;
  try {
    await listening(server, PORT);
    bgBusy = await waitQuiet(o.quiet);
    const argv = nsenter(lane.client, ['taskset', '-c', String(CLIENT_CPU), 'iperf3', '-c', target.ip, '-p', String(target.port),
      '-t', String(o.seconds), '-J', '--connect-timeout', '3000']);
    const t0 = cpuTicks();
    const ran = await runAsync(argv, { timeoutMs: (o.seconds + 20) * 1000 }).catch((e: unknown) => {
      throw new Error(iperfError(e instanceof CommandError ? e.reason : (e as Error).message), { cause: e });
    });
    const t1 = cpuTicks();
    const out = JSON.parse(ran.stdout) as { end?: IperfEnd; error?: string };
    if (!out.end?.sum_received) throw new Error(`iperf3: ${out.error ?? 'no result'}`);
    const end = out.end;
    const gbps = end.sum_received.bits_per_second / 1e9;
    const busyCores = busyFraction(t0, t1) * CPUS;
    return {
      bgBusy, gbps: round(gbps, 3), retransmits: end.sum_sent.retransmits, busyCores: round(busyCores, 3),
      coreSecondsPerGbit: round((busyCores * ran.seconds) / (gbps * end.sum_received.seconds), 4),
      iperfSenderCpu: round(end.cpu_utilization_percent.host_total, 1),
      iperfReceiverCpu: round(end.cpu_utilization_percent.remote_total, 1),
    };
  } catch (e) {
    return { bgBusy, error: (e as Error).message.split('\n')[0].slice(0, 300) };
  } finally {
    stopServer();
  }
}

/** iperf3 -J prints its error inside the JSON, even when it fails. */
function iperfError(reason: string): string {
  const m = /"error":\s*"([^"]*)"/.exec(reason);
  return m ? `iperf3: ${m[1]}` : reason;
}

/** Waits (at most 3 s) until something listens on TCP port in netns. */
async function listening(netns: string, port: number): Promise<void> {
  for (let i = 0; i < 30; i++) {
    if (run(nsenter(netns, ['ss', '-Hltn', `sport = :${port}`])).trim() !== '') return;
    await sleep(100);
  }
  throw new Error(`iperf3 server: not listening after 3 s`);
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
