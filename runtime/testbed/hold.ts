// A long-lived client for the testbed's echo servers, run inside a namespace:
//   node hold.ts tcp|udp IP PORT [--seconds S] [--interval MS] [--timeout MS]
// TCP: one connection, kept open; UDP: one socket on one local port. Every
// interval it sends a line and waits for the answer, until S seconds pass
// or it gets SIGTERM or SIGINT. Prints JSON lines: {"event": "first",
// "answer", "at"} once the first answer came (TCP: the server's greeting),
// then {"event": "done", "sent", "answered", "failed", "errors": {reason: n},
// "answers": [[backend, n], ...] (runs, in order), "firstAt", "lastAt" (epoch
// ms of the first and last answer)}. A TCP connection that closes or resets
// ends the run: every exchange after it would fail.
// Exit status: 0 no failure, 1 some, 2 usage error.
import dgram from 'node:dgram';
import net from 'node:net';
import { number, parseClientArgs, runClient } from './clientArgs.ts';

export interface HoldOptions {
  proto: 'tcp' | 'udp';
  ip: string;
  port: number;
  seconds: number; // at most MAX_SECONDS
  intervalMs: number;
  timeoutMs: number;
}

export interface HoldReport {
  event: 'done';
  sent: number;
  answered: number;
  failed: number;
  errors: { [reason: string]: number };
  answers: [string, number][];
  firstAt: number;
  lastAt: number;
}

export const MAX_SECONDS = 60;

/** A line-answering channel: send() resolves with the answer line or rejects with a reason. */
interface Channel {
  greeting(): Promise<string | undefined>;
  send(): Promise<string>;
  close(): void;
}

function tcpChannel(o: HoldOptions): Channel {
  const s = net.connect({ host: o.ip, port: o.port });
  s.setEncoding('utf8');
  s.setNoDelay(true);
  let buf = '', broken: string | undefined;
  let waiter: { resolve: (l: string) => void; reject: (e: Error) => void } | undefined;
  const fail = (why: string) => {
    broken ??= why;
    waiter?.reject(new Error(why));
    waiter = undefined;
  };
  const deliver = () => {
    const i = buf.indexOf('\n');
    if (i < 0 || !waiter) return;
    const w = waiter, line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    waiter = undefined;
    w.resolve(line);
  };
  s.on('data', (d: string) => {
    buf += d;
    deliver();
  });
  s.on('end', () => fail('closed by the peer'));
  s.on('close', () => fail('closed'));
  s.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
  const next = (write: boolean) => new Promise<string>((resolve, reject) => {
    if (broken) return reject(new Error(broken));
    const timer = setTimeout(() => {
      waiter = undefined;
      reject(new Error('timeout'));
    }, o.timeoutMs);
    waiter = {
      resolve: (l) => (clearTimeout(timer), resolve(l)),
      reject: (e) => (clearTimeout(timer), reject(e)),
    };
    if (write) s.write('ping\n');
    deliver();
  });
  return { greeting: () => next(false), send: () => next(true), close: () => s.destroy() };
}

function udpChannel(o: HoldOptions): Channel {
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => {}); // a send error is reported by send's callback
  const ready = new Promise<void>((resolve) => sock.bind(0, () => resolve()));
  return {
    greeting: async () => undefined,
    send: () => ready.then(() => new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error('timeout')), o.timeoutMs);
      // Unconnected, so an answer from the wrong address (a missed reverse NAT) is seen and named.
      const onMessage = (msg: Buffer, from: dgram.RemoteInfo) => {
        const line = msg.toString('utf8').split('\n')[0];
        if (from.address === o.ip && from.port === o.port) done(undefined, line);
        else done(new Error(`answer from ${from.address}:${from.port}`));
      };
      const done = (e?: Error, line?: string) => {
        clearTimeout(timer);
        sock.removeListener('message', onMessage);
        if (e) reject(e);
        else resolve(line!);
      };
      sock.on('message', onMessage);
      sock.send('ping\n', o.port, o.ip, (e) => e && done(new Error((e as NodeJS.ErrnoException).code ?? e.message)));
    })),
    close: () => sock.close(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function hold(o: HoldOptions, stopped: () => boolean, onFirst: (answer: string, at: number) => void): Promise<HoldReport> {
  const deadline = Date.now() + o.seconds * 1000;
  const r: HoldReport = { event: 'done', sent: 0, answered: 0, failed: 0, errors: {}, answers: [], firstAt: 0, lastAt: 0 };
  const ch = o.proto === 'tcp' ? tcpChannel(o) : udpChannel(o);
  const record = (line: string) => {
    const backend = line.slice(0, line.indexOf(' '));
    const last = r.answers.at(-1);
    if (last && last[0] === backend) last[1]++;
    else r.answers.push([backend, 1]);
    r.lastAt = Date.now();
    if (r.firstAt === 0) {
      r.firstAt = r.lastAt;
      onFirst(line, r.firstAt);
    }
  };
  const failed = (e: Error) => {
    r.failed++;
    r.errors[e.message] = (r.errors[e.message] ?? 0) + 1;
  };
  try {
    const greeting = await ch.greeting().catch((e: Error) => (failed(e), null));
    if (greeting === null) return r;
    if (greeting !== undefined) record(greeting);
    while (!stopped() && Date.now() < deadline) {
      const t0 = Date.now();
      r.sent++;
      try {
        record(await ch.send());
        r.answered++;
      } catch (e) {
        failed(e as Error);
        if (o.proto === 'tcp') break; // the connection is gone
      }
      await sleep(Math.max(0, o.intervalMs - (Date.now() - t0)));
    }
  } finally {
    ch.close();
  }
  return r;
}

const USAGE = 'hold.ts tcp|udp IP PORT [--seconds S] [--interval MS] [--timeout MS]';

/** The options, or what is wrong with argv. */
export function parseHoldArgs(argv: readonly string[]): HoldOptions | string {
  const p = parseClientArgs(argv, {
    proto: true,
    flags: { seconds: number(1, MAX_SECONDS, { default: 10 }), interval: number(10, 10_000, { default: 100, unit: 'ms' }), timeout: number(1, 10_000, { default: 1000, unit: 'ms' }) },
  });
  if (typeof p === 'string') return p;
  const f = p.flags as { seconds: number; interval: number; timeout: number };
  return { proto: p.proto, ip: p.ip, port: p.port, seconds: f.seconds, intervalMs: f.interval, timeoutMs: f.timeout };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runClient('hold', USAGE, parseHoldArgs, async (o) => {
    let stop = false;
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => (stop = true));
    const report = await hold(o, () => stop, (answer, at) => process.stdout.write(JSON.stringify({ event: 'first', answer, at }) + '\n'));
    process.stdout.write(JSON.stringify(report) + '\n');
    return report.failed === 0 && report.firstAt > 0 ? 0 : 1;
  });
}
