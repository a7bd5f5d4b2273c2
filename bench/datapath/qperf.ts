// One qperf tcp_bw run (single stream, 64 KiB messages) from a pod to a pod,
// and the CPU it cost, measured two ways: the whole machine's from /proc/stat
// (sender, receiver and every forwarding hop run on this machine), and the
// two qperf processes' own (utime + stime of the client, and of the server
// with the children it forks per test). The kernel here counts CPU time by
// ticks without IRQ time accounting, so the softirq work a process does for
// its packets (veth, forwarding, tc programs, all run in the sender's
// context) is charged to it: the processes' figure is the path's cost, and
// unlike the machine's it is not raised by other work on a shared machine.
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { pidsIn } from '../../runtime/exec/namespaces.ts';
import { CommandError, nsenter, runAsync } from '../../runtime/exec/command.ts';
import { busyFraction, cpuTicks } from './quiet.ts';

export const QPERF_PORT = 19765; // qperf's default listen port

/** USER_HZ: the unit of /proc/<pid>/stat times (100 on x86_64). */
const USER_HZ = 100;
const CPUS = cpus().length;

export interface QperfResult {
  gbps: number;
  seconds: number; // wall time of the client
  busyCores: number; // the machine's, during the run
  machineCoreSecondsPerGbit: number;
  processCoreSeconds: number; // the qperf client's and server's CPU
  processCoreSecondsPerGbit: number;
}

/** The argv of a qperf server in netns on cpu (it forks a child per test). */
export const qperfServer = (netns: string, cpu: number) => nsenter(netns, ['taskset', '-c', String(cpu), 'qperf', '--listen_port', String(QPERF_PORT)]);

/** Fields 14-17 of /proc/<pid>/stat (utime stime cutime cstime), summed, in ticks; 0 for a process gone. */
function ticksOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].reduce((n, i) => n + Number(f[i]), 0); // f[0] is field 3 (state)
  } catch {
    return 0;
  }
}

const netnsTicks = (netns: string) => pidsIn(netns).reduce((n, pid) => n + ticksOf(pid), 0);

/** "bw = 9.6 Gb/sec" (with -ub) -> Gbit/s. */
export function parseBandwidth(out: string): number {
  const m = /^\s*bw\s*=\s*([\d.]+)\s*([KMG])b\/sec/m.exec(out);
  if (!m) throw new Error(`qperf: no bandwidth in its output: ${out.trim().split('\n').slice(0, 3).join('; ')}`);
  return Number(m[1]) * { K: 1e-6, M: 1e-3, G: 1 }[m[2] as 'K' | 'M' | 'G'];
}

/**
 * Runs `qperf -t seconds SERVER tcp_bw` in clientNs on cpu, against the
 * server running in serverNs. The client runs under sh, which prints its
 * own /proc stat after qperf exits: cutime and cstime are qperf's CPU.
 */
export async function qperfRun(clientNs: string, cpu: number, serverNs: string, serverIp: string, seconds: number): Promise<QperfResult> {
  const script = `taskset -c ${cpu} qperf --listen_port ${QPERF_PORT} -t ${seconds} -ub ${serverIp} tcp_bw; r=$?; echo; cat /proc/$$/stat; exit $r`;
  const server0 = netnsTicks(serverNs), t0 = cpuTicks();
  const ran = await runAsync(nsenter(clientNs, ['sh', '-c', script]), { timeoutMs: (seconds + 20) * 1000 }).catch((e: unknown) => {
    throw new Error(`qperf: ${e instanceof CommandError ? e.reason : (e as Error).message}`, { cause: e });
  });
  const t1 = cpuTicks();
  await new Promise((r) => setTimeout(r, 200)); // the server's child for this test exits and is reaped
  const serverTicks = netnsTicks(serverNs) - server0;
  const lines = ran.stdout.trimEnd().split('\n');
  const shStat = lines.at(-1)!;
  const f = shStat.slice(shStat.lastIndexOf(')') + 2).split(' ');
  const clientTicks = Number(f[13]) + Number(f[14]); // cutime, cstime: qperf, waited for by sh
  const gbps = parseBandwidth(lines.slice(0, -1).join('\n'));
  const busyCores = busyFraction(t0, t1) * CPUS;
  const processCoreSeconds = (clientTicks + serverTicks) / USER_HZ;
  const gbit = gbps * seconds; // qperf's rate is over the -t seconds of the test
  return {
    gbps, seconds: ran.seconds, busyCores, machineCoreSecondsPerGbit: (busyCores * ran.seconds) / gbit,
    processCoreSeconds, processCoreSecondsPerGbit: processCoreSeconds / gbit,
  };
}
