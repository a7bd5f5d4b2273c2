// Timed attempts at a frontend, run inside a namespace, to see how a client
// fails as well as whether it does:
//   node timed.ts tcp|udp IP PORT [--count N] [--timeout MS]
// TCP: a connect, then the server's answer line; UDP: a datagram from a
// connected socket (so an ICMP port unreachable reaches it as ECONNREFUSED),
// then the answer. One attempt after another; prints one JSON array, an
// element per attempt: {"outcome": "answered" | error code | "timeout",
// "ms": time from the attempt's start to its outcome, "answer"?}.
// Exit status: 0 done (whatever the outcomes), 2 usage error.
import dgram from 'node:dgram';
import net from 'node:net';
import { number, parseClientArgs, runClient } from './clientArgs.ts';

export interface Attempt { outcome: string; ms: number; answer?: string }

interface TimedOptions { proto: 'tcp' | 'udp'; ip: string; port: number; count: number; timeoutMs: number }

export const MAX_COUNT = 100;

function tcpAttempt(o: TimedOptions, settle: (outcome: string, answer?: string) => void): () => void {
  let buf = '';
  const s = net.connect({ host: o.ip, port: o.port });
  s.setEncoding('utf8');
  s.on('data', (d: string) => {
    buf += d;
    if (buf.includes('\n')) settle('answered', buf.slice(0, buf.indexOf('\n')));
  });
  s.on('end', () => settle('closed without an answer'));
  s.on('error', (e: NodeJS.ErrnoException) => settle(e.code ?? e.message));
  return () => s.destroy();
}

function udpAttempt(o: TimedOptions, settle: (outcome: string, answer?: string) => void): () => void {
  const sock = dgram.createSocket('udp4');
  sock.on('error', (e: NodeJS.ErrnoException) => settle(e.code ?? e.message));
  sock.on('message', (msg) => settle('answered', msg.toString('utf8').split('\n')[0]));
  // connect itself fails when a cgroup program refuses the frontend (host services)
  const failed = (e: Error) => settle((e as NodeJS.ErrnoException).code ?? e.message);
  sock.connect(o.port, o.ip, (e?: Error) => (e ? failed(e) : sock.send('timed\n', (err) => err && failed(err))));
  return () => sock.close();
}

function attempt(o: TimedOptions): Promise<Attempt> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let close = () => {};
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const settle = (outcome: string, answer?: string) => {
      if (settled) return;
      settled = true;
      const ms = Math.round((performance.now() - t0) * 10) / 10;
      clearTimeout(timer);
      close();
      resolve(answer === undefined ? { outcome, ms } : { outcome, ms, answer });
    };
    timer = setTimeout(() => settle('timeout'), o.timeoutMs);
    close = (o.proto === 'tcp' ? tcpAttempt : udpAttempt)(o, settle);
  });
}

export async function timed(o: TimedOptions): Promise<Attempt[]> {
  const out: Attempt[] = [];
  for (let i = 0; i < o.count; i++) out.push(await attempt(o));
  return out;
}

const USAGE = 'timed.ts tcp|udp IP PORT [--count N] [--timeout MS]';

export function parseTimedArgs(argv: readonly string[]): TimedOptions | string {
  const p = parseClientArgs(argv, { proto: true, flags: { count: number(1, MAX_COUNT, { default: 1, short: 'n' }), timeout: number(1, 10_000, { default: 1000, unit: 'ms' }) } });
  if (typeof p === 'string') return p;
  const f = p.flags as { count: number; timeout: number };
  return { proto: p.proto, ip: p.ip, port: p.port, count: f.count, timeoutMs: f.timeout };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runClient('timed', USAGE, parseTimedArgs, async (o) => {
    process.stdout.write(JSON.stringify(await timed(o)) + '\n');
    return 0;
  });
}
