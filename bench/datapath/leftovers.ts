// Where a run of the datapath benchmarks leaves its traces, all named after
// its pid: namespaces sldp<pid>-*, pins under /sys/fs/bpf/sluice-bench/<pid>/,
// scratch files in <tmp>/sluice-bench-<pid>-*, and testbeds (pod2pod,
// nodeport) whose snapshot is in that scratch folder. A run removes its own on exit
// (benchRun.ts); what a run killed outright (SIGKILL, a lost machine) left is
// removed here, by these names only, at the start of the next run and by
// `--cleanup`.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { down } from '../../runtime/testbed/down.ts';
import { STATE_DIR } from '../../runtime/testbed/names.ts';
import { deleteNetns, pidsIn } from '../../runtime/exec/namespaces.ts';
import { removeIfEmpty, removePinTree } from '../../runtime/testbed/pins.ts';
import { readState } from '../../runtime/testbed/state.ts';
import { run } from '../../runtime/exec/command.ts';

export const NETNS_DIR = '/run/netns';
export const PIN_BASE = '/sys/fs/bpf/sluice-bench';
export const runPrefix = (pid: number) => `sldp${pid}`;
export const scratchPrefix = (pid: number) => join(tmpdir(), `sluice-bench-${pid}-`);

const NETNS_OF_RUN = /^sldp(\d+)-/;
const SCRATCH_OF_RUN = /^sluice-bench-(\d+)-/;
const PAUSE = new Int32Array(new SharedArrayBuffer(4)); // Atomics.wait on it: a synchronous sleep
/** The commands the benchmark starts inside its namespaces. */
const OURS = /\b(acceptd|connlat|httpd|httpget|iperf3|qperf|nft|iptables[\w-]*|node|nsenter|timeout|taskset)\b/;

/** The benchmarks that make these traces. */
const BENCHES = ['datapath', 'pod2pod', 'nodeport'];

/** Whether pid is a datapath benchmark that is still running (a pid reused by something else is not). */
export function runIsLive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.some((a) => a.endsWith('bench/main.ts')) && argv.some((a) => BENCHES.includes(a));
  } catch {
    return false;
  }
}

/** Kills, by pid, what the benchmark started that still runs in namespace ns (only its own tools). */
function killInside(ns: string): number {
  let killed = 0;
  let pids: string[] = [];
  try {
    pids = run(['ip', 'netns', 'pids', ns]).split(/\s+/).filter((p) => /^\d+$/.test(p));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      if (!OURS.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '))) continue;
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/** Removes what runs that are no longer alive left behind; returns one line per thing removed. */
export function removeLeftovers(): string[] {
  const gone: string[] = [];
  const dead = (name: string, re: RegExp) => {
    const m = re.exec(name);
    return m !== null && !runIsLive(Number(m[1]));
  };
  for (const ns of existsSync(NETNS_DIR) ? readdirSync(NETNS_DIR).filter((n) => dead(n, NETNS_OF_RUN)) : []) {
    const killed = killInside(ns);
    deleteNetns(ns);
    gone.push(`netns ${ns}${killed ? ` (and ${killed} processes in it)` : ''}`);
  }
  for (const { prefix, netns } of deadTestbeds()) {
    const killed = netns.reduce((n, ns) => n + killInside(ns), 0); // down leaves alone what testbeds did not start
    for (let i = 0; i < 20 && netns.some((ns) => pidsIn(ns).length > 0); i++) Atomics.wait(PAUSE, 0, 0, 100); // SIGKILL lands soon, not at once
    const r = down(prefix, () => {});
    gone.push(`testbed ${prefix} (${r.netns.length} namespaces${killed ? `, ${killed} processes` : ''}${r.warnings.length ? `; ${r.warnings.join('; ')}` : ''})`);
  }
  for (const pid of existsSync(PIN_BASE) ? readdirSync(PIN_BASE).filter((p) => /^\d+$/.test(p) && !runIsLive(Number(p))) : []) {
    gone.push(`${removePinTree(join(PIN_BASE, pid))} pins under ${join(PIN_BASE, pid)}`);
  }
  if (existsSync(PIN_BASE)) removeIfEmpty(PIN_BASE);
  for (const name of readdirSync(tmpdir()).filter((n) => dead(n, SCRATCH_OF_RUN))) {
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
    gone.push(`scratch ${join(tmpdir(), name)}`);
  }
  return gone;
}

/** Testbeds made by runs no longer alive (their snapshot is in such a run's scratch folder), with their namespaces. */
function deadTestbeds(): { prefix: string; netns: string[] }[] {
  const scratch = new RegExp(`^${tmpdir().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/sluice-bench-(\\d+)-`);
  const prefixes = existsSync(STATE_DIR) ? readdirSync(STATE_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)) : [];
  return prefixes.flatMap((prefix) => {
    try {
      const state = readState(prefix);
      const m = scratch.exec(state?.files[0] ?? '');
      return m !== null && !runIsLive(Number(m[1])) ? [{ prefix, netns: state!.netns }] : [];
    } catch {
      return []; // not a testbed state file we can read: not ours to judge
    }
  });
}
