// The one way sluice, its tests and its benchmarks run a program: argv[0] is
// a Program of programs.ts (so whatever runs here is something the install
// scripts provide), or an absolute path (a tool the benchmark built, a
// user's command). Every run has a time bound; a failure is a CommandError
// naming the command and what it printed, with the spawn error as its cause.
// Long runs and background processes are remembered while they run, so a
// stopped run ends them, and only them (by pid).
import { spawn, spawnSync, type ChildProcess, type IOType, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Program } from './programs.ts';

export type Argv = readonly [Program | `/${string}`, ...string[]];

const NETNS_DIR = '/run/netns';

/** argv that runs argv inside netns, with the host's mounts (bpffs stays visible; `ip netns exec` would remount /sys). */
export const nsenter = (netns: string, argv: Argv): Argv => ['nsenter', `--net=${NETNS_DIR}/${netns}`, '--', ...argv];

/** A person's command (`sluice testbed exec NS -- CMD`): not ours to list, so only nsenter may run it. */
export const nsenterUser = (netns: string, argv: readonly string[]): Argv => ['nsenter', `--net=${NETNS_DIR}/${netns}`, '--', ...argv];

/** A command that failed: the message names it; reason is only what went wrong. */
export class CommandError extends Error {
  readonly argv: readonly string[];
  readonly reason: string;
  readonly status: number | null;
  constructor(argv: readonly string[], reason: string, status: number | null, options?: ErrorOptions) {
    super(`${short(argv)}: ${reason}`, options);
    this.name = 'CommandError';
    this.argv = argv;
    this.reason = reason;
    this.status = status;
  }
}

export interface RunOptions {
  input?: string;
  /** Default 30 s; the command is killed (SIGKILL) after it. Infinity: a person's command, not ours. */
  timeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where stdout and stderr go: 'pipe' (returned) by default; 'inherit' shows them (and stdin, without input, is the terminal's). */
  output?: 'pipe' | 'inherit' | 'ignore';
  /** Sent at the time bound (default SIGKILL); SIGTERM lets a script clean up. */
  killSignal?: NodeJS.Signals;
}

export interface Ran { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; error?: Error }

/** Runs a command to its end; never throws (probes, cleanup): the caller reads status. */
export function tryRun(argv: Argv, o: RunOptions = {}): Ran {
  const out: IOType = o.output ?? 'pipe';
  const stdin: IOType = o.input !== undefined ? 'pipe' : out === 'inherit' ? 'inherit' : 'ignore';
  const timeout = o.timeoutMs === Infinity ? undefined : o.timeoutMs ?? 30_000;
  const r = spawnSync(command(argv), argv.slice(1), {
    input: o.input, cwd: o.cwd, env: o.env, encoding: 'utf8', timeout, killSignal: o.killSignal ?? 'SIGKILL', maxBuffer: 256 << 20, stdio: [stdin, out, out],
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Runs a command to its end; returns its stdout. Throws a CommandError when it cannot start, fails or times out. */
export function run(argv: Argv, o: RunOptions = {}): string {
  const r = tryRun(argv, o);
  if (r.error || r.status !== 0) throw failure(argv, r, o.timeoutMs ?? 30_000);
  return r.stdout;
}

/** Whether a program is on PATH. */
export function has(program: Program): boolean {
  return program === 'node' || (process.env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, program)));
}

/** Commands tryRunAsync() and start() began that have not ended yet. */
const running = new Set<ChildProcess>();

/** Runs a command (stdin from a file, when given) without blocking; never rejects: the caller reads status (and how long it took). */
export function tryRunAsync(argv: Argv, o: { timeoutMs: number; stdinFile?: string }): Promise<Ran & { seconds: number }> {
  const stdin = o.stdinFile === undefined ? 'ignore' : openSync(o.stdinFile, 'r');
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = track(spawn(command(argv), argv.slice(1), { stdio: [stdin, 'pipe', 'pipe'], timeout: o.timeoutMs, killSignal: 'SIGKILL' }));
    if (typeof stdin === 'number') closeSync(stdin);
    let stdout = '', stderr = '';
    const seconds = () => Number(process.hrtime.bigint() - t0) / 1e9;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
    child.on('error', (error) => resolve({ status: null, signal: null, stdout, stderr, error, seconds: seconds() }));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr, seconds: seconds() }));
  });
}

/** runAsync's promise: stdout and how long it took; rejects with a CommandError when the command fails or times out. */
export async function runAsync(argv: Argv, o: { timeoutMs: number; stdinFile?: string }): Promise<{ stdout: string; seconds: number }> {
  const r = await tryRunAsync(argv, o);
  if (r.error || r.status !== 0) throw failure(argv, r, o.timeoutMs);
  return r;
}

/** Starts a process in the background (a server, an agent); the caller ends it. */
export function start(argv: Argv, o: { stdio?: StdioOptions; env?: NodeJS.ProcessEnv; detached?: boolean } = {}): ChildProcess {
  return track(spawn(command(argv), argv.slice(1), { stdio: o.stdio ?? 'ignore', env: o.env, detached: o.detached }));
}

/** Kills (SIGKILL, by pid) every command tryRunAsync() or start() began that still runs; for a run that stops early. */
export function killRunning(): void {
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // ended meanwhile
      }
    }
  }
  running.clear();
}

function track(child: ChildProcess): ChildProcess {
  running.add(child);
  child.on('close', () => running.delete(child));
  child.on('error', () => running.delete(child));
  return child;
}

const command = (argv: Argv) => (argv[0] === 'node' ? process.execPath : argv[0]);

function failure(argv: Argv, r: Omit<Ran, 'error'> & { error?: Error }, timeoutMs: number): CommandError {
  if (r.error) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    return new CommandError(argv, timedOut ? `killed after the ${timeoutMs / 1000} s bound` : r.error.message, r.status, { cause: r.error });
  }
  if (r.signal === 'SIGKILL') return new CommandError(argv, `killed after the ${timeoutMs / 1000} s bound`, r.status);
  const tail = (r.stderr || r.stdout).trim().split('\n').slice(-3).join('; ');
  return new CommandError(argv, tail || (r.signal ? `killed by ${r.signal}` : `exit ${r.status}`), r.status);
}

function short(argv: readonly string[]): string {
  const s = argv.join(' ');
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}
