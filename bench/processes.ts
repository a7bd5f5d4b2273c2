// The processes the agent benchmarks run: the fake API server (in a process
// of its own, apiServerProcess.ts) and agents (`sluice run`), each read from
// /proc by pid, so that each one's CPU and memory are its own.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { NODE_FLAGS } from '../runtime/cli/run.ts';
import { start } from '../runtime/exec/command.ts';

const MAIN = new URL('../runtime/cli/main.ts', import.meta.url).pathname;
const SERVER = new URL('./apiServerProcess.ts', import.meta.url).pathname;
/** As the image runs the agent: Node's compile cache on (deploy/Dockerfile). */
export const COMPILE_CACHE = new URL('../build/bench/compile-cache', import.meta.url).pathname;
const CLK_TCK = 100; // USER_HZ on Linux

/** utime + stime of a process, in seconds. */
export function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/**
 * The CPU time of a process's threads alive now, in seconds, to the
 * nanosecond (each thread's schedstat): a phase of 30 changes is a few
 * 10 ms ticks of cpuOf's. Threads that have exited are not counted: for
 * differences over a process whose threads persist (the agent's).
 */
export function threadsCpuOf(pid: number): number {
  let ns = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread exited since the listing
    }
  }
  return ns / 1e9;
}

export function rssOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The fake API server's process, and a way to ask it things. */
export class ServerProcess {
  readonly child: ChildProcess;
  private waiting: ((m: any) => void)[] = [];

  constructor() {
    this.child = start(['node', SERVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m) => this.waiting.shift()?.(m));
  }

  ask<T = any>(m: object): Promise<T> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.send(m);
    });
  }

  close(): void {
    this.child.disconnect();
  }
}

/** One agent process (`sluice run`, --dry-run unless told otherwise), its log read as it comes. */
export class AgentProcess {
  readonly child: ChildProcess;
  readonly lines: { msg: string; [k: string]: any }[] = [];

  constructor(node: string, kubeconfig: string, extra: string[] = ['--dry-run']) {
    mkdirSync(COMPILE_CACHE, { recursive: true });
    this.child = start(['node', ...NODE_FLAGS, MAIN, 'run', '--node', node, '--kubeconfig', kubeconfig, '--listen', '127.0.0.1:0', '--min-sync', '1s', ...extra],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_COMPILE_CACHE: COMPILE_CACHE } });
    let buf = '';
    this.child.stderr!.on('data', (b: Buffer) => {
      buf += b.toString();
      for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) this.lines.push(JSON.parse(buf.slice(0, nl)));
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  line(msg: string) {
    return this.lines.find((l) => l.msg === msg);
  }

  async until(msg: string, ms: number): Promise<{ [k: string]: any }> {
    const t0 = performance.now();
    for (;;) {
      const l = this.line(msg);
      if (l) return l;
      const bad = this.lines.find((x) => x.level === 'error');
      if (bad || this.child.exitCode !== null || performance.now() - t0 > ms) throw new Error(`agent ${this.pid}: no ${msg}: ${JSON.stringify(bad ?? this.lines.at(-1))}`);
      await sleep(20);
    }
  }

  /** sluice_events_total for one kind and type, from /metrics. */
  async events(kind: string, type: string): Promise<number> {
    const l = this.line('listening')!;
    const text = await (await fetch(`http://127.0.0.1:${l.metricsPort}/metrics`)).text();
    const m = new RegExp(`^sluice_events_total\\{kind="${kind}",type="${type}"\\} (\\d+)`, 'm').exec(text);
    return Number(m?.[1] ?? 0);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000)]);
    this.child.kill('SIGKILL');
  }
}
