// Commands for the datapath benchmark: short ones synchronously, long ones
// (rule loads, probes) as promises so that a signal can still stop the run.
// Every command has a time bound. The long ones and the background servers
// (under timeout(1)) are remembered by pid while they run, so that a stopped
// run ends them, and only them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** argv that runs argv in network namespace ns (nsenter keeps the host's mounts, so bpffs stays visible). */
export const inNs = (ns: string, argv: readonly string[]) => ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv];

/** Runs a short command; returns stdout. Throws "CMD: STDERR" when it fails or takes over timeoutMs. */
export function runSync(argv: readonly string[], input?: string, timeoutMs = 30_000): string {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) throw new Error(`${argv.join(' ')}: ${why(r.error, r.status, r.signal, r.stderr || r.stdout)}`);
  return r.stdout;
}

export interface Ran { stdout: string; seconds: number }

/** Commands started by run() that have not ended yet. */
const running = new Set<ChildProcess>();

/** Kills (by pid) every command run() started that is still running; for a run that stops early. */
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

/** A command that failed: message names the command; reason is only what went wrong. */
export class CommandError extends Error {
  readonly reason: string;
  constructor(argv: readonly string[], reason: string) {
    super(`${short(argv)}: ${reason}`);
    this.reason = reason;
  }
}

/** Runs a command (stdin from a file, when given); resolves with its stdout, rejects naming it when it fails or times out. */
export function run(argv: readonly string[], opts: { timeoutMs: number; stdinFile?: string }): Promise<Ran> {
  const stdin = opts.stdinFile === undefined ? 'ignore' : openSync(opts.stdinFile, 'r');
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, 'pipe', 'pipe'], timeout: opts.timeoutMs, killSignal: 'SIGKILL' });
    running.add(child);
    if (typeof stdin === 'number') closeSync(stdin);
    let out = '', err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err = (err + d).slice(-4000)));
    child.on('error', (e) => {
      running.delete(child);
      reject(new CommandError(argv, e.message));
    });
    child.on('close', (status, signal) => {
      running.delete(child);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (status === 0) resolve({ stdout: out, seconds });
      else reject(new CommandError(argv, why(undefined, status, signal, err || out, opts.timeoutMs)));
    });
  });
}

function short(argv: readonly string[]): string {
  const s = argv.join(' ');
  return s.length > 200 ? `${s.slice(0, 200)}...` : s;
}

function why(error: Error | undefined, status: number | null, signal: NodeJS.Signals | null, text: string, timeoutMs?: number): string {
  if (error) return error.message;
  if (signal === 'SIGKILL' && timeoutMs !== undefined) return `killed after the ${timeoutMs / 1000} s bound`;
  const tail = text.trim().split('\n').slice(-3).join('; ');
  return tail || (signal ? `killed by ${signal}` : `exit ${status}`);
}

/** Background servers we started, and only those: stopped by pid. */
export class Servers {
  private children: ChildProcess[] = [];

  /** Starts argv bounded by timeout(1) after limitSeconds; its output is dropped. Returns a function that stops it. */
  start(argv: readonly string[], limitSeconds: number): () => void {
    const child = spawn('timeout', ['-s', 'KILL', String(limitSeconds), ...argv], { stdio: 'ignore' });
    child.on('error', () => undefined); // a server that cannot start shows up as failed probes, with their reason
    this.children.push(child);
    return () => {
      stop(child);
      this.children = this.children.filter((c) => c !== child);
    };
  }

  /** Stops every server started here that is still running. */
  stopAll(): void {
    for (const child of this.children.splice(0)) stop(child);
  }
}

function stop(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    try {
      process.kill(child.pid, 'SIGTERM'); // timeout(1) passes it on to the server
    } catch {
      // gone meanwhile
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
