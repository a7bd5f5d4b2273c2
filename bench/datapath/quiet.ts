// How busy the whole machine is, from /proc/stat: the benchmark waits (a
// bounded time) for a quiet machine before each sample and records the busy
// fraction it saw, so noisy samples can be told apart afterwards.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Ticks { busy: number; total: number }

/** Jiffies of all CPUs: busy (user, nice, system, irq, softirq, steal) and total (also idle, iowait). */
export function cpuTicks(): Ticks {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]; // "cpu  user nice system idle iowait irq softirq steal ..."
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Fraction of all CPU time that was busy between a and b. */
export const busyFraction = (a: Ticks, b: Ticks) => (b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0);

export interface QuietWait { threshold: number; windowMs: number; maxMs: number }

export const DEFAULT_QUIET: QuietWait = { threshold: 0.25, windowMs: 300, maxMs: 3000 };

/** Waits until a window's busy fraction is under the threshold, at most maxMs; returns the last fraction seen. */
export async function waitQuiet(q: QuietWait = DEFAULT_QUIET): Promise<number> {
  const deadline = Date.now() + q.maxMs;
  for (;;) {
    const a = cpuTicks();
    await sleep(q.windowMs);
    const f = busyFraction(a, cpuTicks());
    if (f < q.threshold || Date.now() + q.windowMs > deadline) return Math.round(f * 1000) / 1000;
  }
}
