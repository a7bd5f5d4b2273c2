// A connection-rate client for the testbed's echo servers, run inside a namespace:
//   node rate.ts IP PORT [--seconds S] [--concurrency C] [--rate R] [--timeout MS] [--max N]
// Opens short TCP connections, C at a time (at most R new ones a second when
// given), until S seconds pass, N connections were made, or it gets SIGTERM
// or SIGINT (then it lets those in flight finish). A connection counts as ok
// once the server's answer line arrived; it is then reset (no TIME_WAIT, so
// a few seconds at full speed cannot run out of local ports). Prints a JSON
// line {"event": "running", "at"} once the first connection is answered, and
// at the end the report:
//   {"event": "done", "ok", "failed", "errors": {reason: n}, "seconds", "rate" (ok per second),
//    "startedAt", "endedAt" (epoch ms), "backends": {name: n},
//    "latencyMs": {"p50", "p99", "max"}, "maxGapMs"}
// maxGapMs is the longest time without a connection completing: a stall.
// Exit status: 0 no failure, 1 some, 2 usage error.
import net from 'node:net';
import { number, parseClientArgs, runClient } from './clientArgs.ts';

export interface RateOptions {
  ip: string;
  port: number;
  seconds: number; // at most MAX_SECONDS
  concurrency: number;
  rate?: number; // new connections per second, at most
  timeoutMs: number;
  max: number;
}

export interface RateReport {
  event: 'done';
  ok: number;
  failed: number;
  errors: { [reason: string]: number };
  seconds: number;
  rate: number;
  startedAt: number;
  endedAt: number;
  backends: { [name: string]: number };
  latencyMs: { p50: number; p99: number; max: number };
  maxGapMs: number;
}

export const MAX_SECONDS = 30;
export const MAX_CONCURRENCY = 64;
export const MAX_CONNECTIONS = 100_000;

type Outcome = { ok: true; backend: string } | { ok: false; error: string };

function connectOnce(o: RateOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    let buf = '';
    const s = net.connect({ host: o.ip, port: o.port });
    const done = (r: Outcome) => {
      clearTimeout(timer);
      if (r.ok) s.resetAndDestroy();
      else s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), o.timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) done({ ok: true, backend: buf.slice(0, buf.indexOf(' ')) });
    });
    s.on('end', () => done({ ok: false, error: 'closed without an answer' }));
    s.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const quantile = (sorted: readonly number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);

/** Runs until the time, the count or stop() ends it. */
export async function runRate(o: RateOptions, stopped: () => boolean, onFirst: (at: number) => void = () => {}): Promise<RateReport> {
  const startedAt = Date.now(), deadline = startedAt + o.seconds * 1000;
  const r: RateReport = {
    event: 'done', ok: 0, failed: 0, errors: {}, seconds: 0, rate: 0, startedAt, endedAt: 0, backends: {}, latencyMs: { p50: 0, p99: 0, max: 0 }, maxGapMs: 0,
  };
  const latencies: number[] = [];
  let started = 0, lastDone = startedAt;
  const more = () => !stopped() && Date.now() < deadline && started < o.max;
  const worker = async () => {
    while (more()) {
      const slot = started++; // taken before waiting: two workers never pace to one slot
      if (o.rate !== undefined) {
        const due = startedAt + (slot * 1000) / o.rate;
        if (due > Date.now()) await sleep(due - Date.now());
        if (stopped() || Date.now() >= deadline) return;
      }
      const t0 = Date.now();
      const out = await connectOnce(o);
      const t1 = Date.now();
      r.maxGapMs = Math.max(r.maxGapMs, t1 - lastDone);
      lastDone = t1;
      if (out.ok) {
        if (r.ok++ === 0) onFirst(t1);
        r.backends[out.backend] = (r.backends[out.backend] ?? 0) + 1;
        latencies.push(t1 - t0);
      } else {
        r.failed++;
        r.errors[out.error] = (r.errors[out.error] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  r.endedAt = Date.now();
  r.seconds = (r.endedAt - startedAt) / 1000;
  r.rate = r.seconds > 0 ? Math.round(r.ok / r.seconds) : 0;
  latencies.sort((a, b) => a - b);
  r.latencyMs = { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: latencies.at(-1) ?? 0 };
  return r;
}

const USAGE = 'rate.ts IP PORT [--seconds S] [--concurrency C] [--rate R] [--timeout MS] [--max N]';

/** The options, or what is wrong with argv. */
export function parseRateArgs(argv: readonly string[]): RateOptions | string {
  const p = parseClientArgs(argv, {
    proto: false,
    flags: {
      seconds: number(0.1, MAX_SECONDS, { default: 3, real: true }), concurrency: number(1, MAX_CONCURRENCY, { default: 8 }),
      rate: number(1, 100_000, { real: true, unit: 'connections a second' }), timeout: number(1, 60_000, { default: 2000, unit: 'ms', real: true }),
      max: number(1, MAX_CONNECTIONS, { default: MAX_CONNECTIONS }),
    },
  });
  if (typeof p === 'string') return p;
  const f = p.flags as { seconds: number; concurrency: number; rate?: number; timeout: number; max: number };
  return { ip: p.ip, port: p.port, seconds: f.seconds, concurrency: f.concurrency, rate: f.rate, timeoutMs: f.timeout, max: f.max };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runClient('rate', USAGE, parseRateArgs, async (o) => {
    let stop = false;
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => (stop = true));
    const report = await runRate(o, () => stop, (at) => process.stdout.write(JSON.stringify({ event: 'running', at }) + '\n'));
    process.stdout.write(JSON.stringify(report) + '\n');
    return report.failed === 0 ? 0 : 1;
  });
}
