// Background servers of a benchmark run (iperf3, qperf, httpd, acceptd), each
// bounded by timeout(1) and remembered, so that a run that stops ends them,
// and only them (by pid).
import type { ChildProcess } from 'node:child_process';
import { start, type Argv } from '../../runtime/exec/command.ts';

export class Servers {
  private children: ChildProcess[] = [];

  /** Starts argv bounded by timeout(1) after limitSeconds; its output is dropped. Returns a function that stops it. */
  start(argv: Argv, limitSeconds: number): () => void {
    const child = start(['timeout', '-s', 'KILL', String(limitSeconds), ...argv]);
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
