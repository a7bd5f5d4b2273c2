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
import { parseArgs } from 'node:util';

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

const USAGE = 'usage: rate.ts IP PORT [--seconds S] [--concurrency C] [--rate R] [--timeout MS] [--max N]\n';

/** The options, or what is wrong with argv. */
export function parseRateArgs(argv: readonly string[]): RateOptions | string {
  let p;
  try {
    p = parseArgs({
      args: [...argv], allowPositionals: true,
      options: {
        seconds: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '8' }, rate: { type: 'string' },
        timeout: { type: 'string', default: '2000' }, max: { type: 'string', default: String(MAX_CONNECTIONS) },
      },
    });
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
  const [ip, portText] = p.positionals;
  const num = (t: string | undefined, min: number, max: number) => (t !== undefined && /^\d+(\.\d+)?$/.test(t) && +t >= min && +t <= max ? +t : undefined);
  const port = num(portText, 1, 65535), seconds = num(p.values.seconds, 0.1, MAX_SECONDS);
  const concurrency = num(p.values.concurrency, 1, MAX_CONCURRENCY), timeoutMs = num(p.values.timeout, 1, 60_000);
  const max = num(p.values.max, 1, MAX_CONNECTIONS), rate = p.values.rate === undefined ? undefined : num(p.values.rate, 1, 100_000);
  if (!net.isIPv4(ip ?? '')) return 'IP must be an IPv4 address';
  if (port === undefined || !Number.isInteger(port) || p.positionals.length !== 2) return 'PORT must be 1-65535, and nothing may follow it';
  if (seconds === undefined) return `--seconds must be 0.1-${MAX_SECONDS}`;
  if (concurrency === undefined || !Number.isInteger(concurrency)) return `--concurrency must be 1-${MAX_CONCURRENCY}`;
  if (p.values.rate !== undefined && rate === undefined) return '--rate must be 1-100000 connections a second';
  if (timeoutMs === undefined) return '--timeout must be 1-60000 ms';
  if (max === undefined || !Number.isInteger(max)) return `--max must be 1-${MAX_CONNECTIONS}`;
  return { ip: ip!, port, seconds, concurrency, rate, timeoutMs, max };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = parseRateArgs(process.argv.slice(2));
  if (typeof o === 'string') {
    process.stderr.write(`rate: ${o}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    let stop = false;
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => (stop = true));
    const report = await runRate(o, () => stop, (at) => process.stdout.write(JSON.stringify({ event: 'running', at }) + '\n'));
    process.stdout.write(JSON.stringify(report) + '\n');
    process.exitCode = report.failed === 0 ? 0 : 1;
  }
}
