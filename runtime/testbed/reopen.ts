// A client that keeps one socket to a frontend and opens a new one whenever
// it fails, as a resolver or a connection pool does; run inside a namespace:
//   node reopen.ts tcp|udp IP PORT [--seconds S] [--interval MS] [--connect-timeout MS]
// UDP: a connected socket (so host services translate it once, at connect),
// a datagram every interval; one left unanswered changes nothing, as a
// resolver retries on the same socket. TCP: one connection, a line every
// interval once connected; connecting may take up to --connect-timeout.
// Either way a socket error ends that socket, and the next opens at once.
// Prints JSON lines: {"event": "open", "socket": n, "at"} as a socket opens
// (n counts from 1), {"event": "answer", "socket": n, "backend", "at"} for
// its first answer, {"event": "error", "socket": n,
// "code", "phase": "connecting" | "connected", "openedAt", "at"} when a
// socket fails, then {"event": "done", "sockets", "answers": [[socket,
// backend, n], ...] (runs, in order)} after S seconds or SIGTERM/SIGINT.
// Exit status: 0 done, 2 usage error.
import dgram from 'node:dgram';
import net from 'node:net';
import { number, parseClientArgs, runClient } from './clientArgs.ts';

export interface ReopenOptions { proto: 'tcp' | 'udp'; ip: string; port: number; seconds: number; intervalMs: number; connectTimeoutMs: number }

export type ReopenEvent =
  | { event: 'open'; socket: number; at: number }
  | { event: 'answer'; socket: number; backend: string; at: number }
  | { event: 'error'; socket: number; code: string; phase: 'connecting' | 'connected'; openedAt: number; at: number }
  | { event: 'done'; sockets: number; answers: [number, string, number][] };

export const MAX_SECONDS = 60;

/** One socket's life: answers go to onAnswer, its one failure to onError; close() ends it quietly. */
interface Conn { close(): void }
type Handlers = { onAnswer: (line: string) => void; onConnected: () => void; onError: (code: string) => void };

const codeOf = (e: Error) => (e as NodeJS.ErrnoException).code ?? e.message;

function udpConn(o: ReopenOptions, h: Handlers): Conn {
  const sock = dgram.createSocket('udp4');
  let timer: NodeJS.Timeout | undefined;
  sock.on('error', (e) => h.onError(codeOf(e)));
  sock.on('message', (msg) => h.onAnswer(msg.toString('utf8').split('\n')[0]));
  sock.connect(o.port, o.ip, (e?: Error) => {
    if (e) return h.onError(codeOf(e));
    h.onConnected();
    const send = () => sock.send('reopen\n', (err) => err && h.onError(codeOf(err)));
    send();
    timer = setInterval(send, o.intervalMs);
  });
  return { close: () => (clearInterval(timer), sock.removeAllListeners(), sock.on('error', () => {}), sock.close()) };
}

function tcpConn(o: ReopenOptions, h: Handlers): Conn {
  const s = net.connect({ host: o.ip, port: o.port, timeout: o.connectTimeoutMs });
  let timer: NodeJS.Timeout | undefined, buf = '';
  s.setEncoding('utf8');
  s.on('timeout', () => h.onError('timeout'));
  s.on('connect', () => {
    s.setTimeout(0);
    h.onConnected();
    timer = setInterval(() => s.write('reopen\n'), o.intervalMs);
  });
  s.on('data', (d: string) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      h.onAnswer(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  s.on('error', (e) => h.onError(codeOf(e)));
  s.on('end', () => h.onError('closed by the peer'));
  return { close: () => (clearInterval(timer), s.removeAllListeners(), s.on('error', () => {}), s.destroy()) };
}

export async function reopen(o: ReopenOptions, stopped: () => boolean, emit: (e: ReopenEvent) => void): Promise<ReopenEvent> {
  const deadline = Date.now() + o.seconds * 1000;
  const answers: [number, string, number][] = [];
  const answered = new Set<number>();
  let sockets = 0, conn: Conn | undefined;
  const open = () => {
    const socket = ++sockets, openedAt = Date.now();
    let phase: 'connecting' | 'connected' = 'connecting', over = false;
    emit({ event: 'open', socket, at: openedAt });
    conn = (o.proto === 'tcp' ? tcpConn : udpConn)(o, {
      onConnected: () => (phase = 'connected'),
      onAnswer: (line) => {
        const backend = line.slice(0, line.indexOf(' '));
        const last = answers.at(-1);
        if (last && last[0] === socket && last[1] === backend) last[2]++;
        else answers.push([socket, backend, 1]);
        if (answered.has(socket)) return;
        answered.add(socket);
        emit({ event: 'answer', socket, backend, at: Date.now() });
      },
      onError: (code) => {
        if (over) return;
        over = true;
        emit({ event: 'error', socket, code, phase, openedAt, at: Date.now() });
        conn?.close();
        if (!stopped() && Date.now() < deadline) open();
      },
    });
  };
  open();
  while (!stopped() && Date.now() < deadline) await new Promise((r) => setTimeout(r, Math.min(100, o.intervalMs)));
  conn?.close();
  return { event: 'done', sockets, answers };
}

const USAGE = 'reopen.ts tcp|udp IP PORT [--seconds S] [--interval MS] [--connect-timeout MS]';

/** The options, or what is wrong with argv. */
export function parseReopenArgs(argv: readonly string[]): ReopenOptions | string {
  const p = parseClientArgs(argv, {
    proto: true,
    flags: {
      seconds: number(1, MAX_SECONDS, { default: 10 }), interval: number(10, 10_000, { default: 100, unit: 'ms' }),
      'connect-timeout': number(1, 60_000, { default: 30_000, unit: 'ms' }),
    },
  });
  if (typeof p === 'string') return p;
  const f = p.flags as { seconds: number; interval: number; 'connect-timeout': number };
  return { proto: p.proto, ip: p.ip, port: p.port, seconds: f.seconds, intervalMs: f.interval, connectTimeoutMs: f['connect-timeout'] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runClient('reopen', USAGE, parseReopenArgs, async (o) => {
    let stop = false;
    for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => (stop = true));
    const line = (e: ReopenEvent) => process.stdout.write(JSON.stringify(e) + '\n');
    line(await reopen(o, () => stop, line));
    return 0;
  });
}
