// Starts and stops the pods' echo servers (echoServer.ts), one Node process
// per pod inside its namespace, detached, output to a log under runDir. A
// process is identified by pid and start time and stopped only if both still
// match and its command line is an echo server's: never a stranger's pid.
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { nsenter, start } from '../exec/command.ts';
import { runDir } from './names.ts';
import type { Proc } from './state.ts';
import type { PodSpec } from './topology.ts';

export const ECHO_SERVER = new URL('./echoServer.ts', import.meta.url).pathname;

export const echoLog = (prefix: string, pod: PodSpec) => `${runDir(prefix)}/${pod.netns}.log`;

/** Start time of pid (clock ticks since boot), or undefined if there is no such process (or only its zombie). */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 on; comm may hold spaces
    return fields[0] === 'Z' || fields[0] === 'X' ? undefined : fields[19]; // state; starttime is field 22
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** Whether pid runs an echo server (of any testbed; callers know which namespaces are theirs). */
export const isEchoServer = (pid: number) => commandLine(pid).includes(ECHO_SERVER);

/** Whether proc still runs: the same pid, started at the same time. */
export const isAlive = (proc: Proc) => processStart(proc.pid) === proc.start;

/** Spawns pod's echo server (ready once its log says so: waitReady). */
export function startEcho(prefix: string, pod: PodSpec, ttl: number): Proc {
  mkdirSync(runDir(prefix), { recursive: true, mode: 0o700 });
  const fd = openSync(echoLog(prefix, pod), 'w', 0o600);
  try {
    const child = start(nsenter(pod.netns, ['node', ECHO_SERVER, pod.key, String(ttl), ...pod.ports.map(String)]), { detached: true, stdio: ['ignore', fd, fd] });
    if (child.pid === undefined) throw new Error(`echo server of ${pod.key}: spawn failed`);
    child.unref();
    return { pid: child.pid, start: processStart(child.pid) ?? '?' };
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Waits until every started server has printed "ready". Throws, naming the
 * pod and quoting its log, when one fails or timeoutMs passes.
 */
export function waitReady(prefix: string, started: readonly { pod: PodSpec; proc: Proc }[], timeoutMs = 10_000): void {
  const deadline = Date.now() + timeoutMs;
  const ready = started.map(() => false);
  for (;;) {
    started.forEach(({ pod, proc }, i) => {
      if (ready[i]) return;
      const log = readFileSync(echoLog(prefix, pod), 'utf8');
      ready[i] = log.startsWith('ready');
      if (!ready[i] && (log.startsWith('failed') || !isAlive(proc))) {
        throw new Error(`echo server of ${pod.key} in ${pod.netns}: ${log.trim() || 'exited'}`);
      }
    });
    if (ready.every((r) => r)) return;
    if (Date.now() > deadline) {
      const late = started.filter((_, i) => !ready[i]).map((s) => s.pod.key);
      throw new Error(`echo servers not ready after ${timeoutMs} ms: ${late.join(', ')}`);
    }
    sleep(20);
  }
}

/** Stops proc if it is still the echo server we started: SIGTERM, then SIGKILL after graceMs. Returns whether it had to. */
export function stopEcho(proc: Proc, graceMs = 2000): boolean {
  if (!isAlive(proc) || !isEchoServer(proc.pid)) return false;
  process.kill(proc.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(proc) && Date.now() < deadline) sleep(10);
  if (isAlive(proc)) process.kill(proc.pid, 'SIGKILL');
  while (isAlive(proc) && Date.now() < deadline + 1000) sleep(10);
  return true;
}
