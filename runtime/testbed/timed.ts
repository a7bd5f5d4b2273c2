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
import { parseArgs } from 'node:util';

export interface Attempt { outcome: string; ms: number; answer?: string }

export interface TimedOptions { proto: 'tcp' | 'udp'; ip: string; port: number; count: number; timeoutMs: number }

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

/** One attempt (o.count is not read). */
export function attempt(o: TimedOptions): Promise<Attempt> {
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

const USAGE = 'usage: timed.ts tcp|udp IP PORT [--count N] [--timeout MS]\n';

export function parseTimedArgs(argv: readonly string[]): TimedOptions | string {
  let p;
  try {
    p = parseArgs({
      args: [...argv], allowPositionals: true,
      options: { count: { type: 'string', short: 'n', default: '1' }, timeout: { type: 'string', default: '1000' } },
    });
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
  const [proto, ip, portText] = p.positionals;
  const int = (t: string | undefined, min: number, max: number) => (t !== undefined && /^\d+$/.test(t) && +t >= min && +t <= max ? +t : undefined);
  const port = int(portText, 1, 65535), count = int(p.values.count, 1, MAX_COUNT), timeoutMs = int(p.values.timeout, 1, 10_000);
  if (proto !== 'tcp' && proto !== 'udp') return 'the protocol is tcp or udp';
  if (!net.isIPv4(ip ?? '')) return 'IP must be an IPv4 address';
  if (port === undefined || p.positionals.length !== 3) return 'PORT must be 1-65535, and nothing may follow it';
  if (count === undefined) return `--count must be 1-${MAX_COUNT}`;
  if (timeoutMs === undefined) return '--timeout must be 1-10000 ms';
  return { proto, ip: ip!, port, count, timeoutMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = parseTimedArgs(process.argv.slice(2));
  if (typeof o === 'string') {
    process.stderr.write(`timed: ${o}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    process.stdout.write(JSON.stringify(await timed(o)) + '\n');
  }
}
