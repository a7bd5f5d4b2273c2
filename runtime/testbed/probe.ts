// A client for the testbed's echo servers, run inside a namespace:
//   node probe.ts tcp|udp IP PORT [--count N] [--timeout MS] [--source IP] [--sport PORT] [--peer]
// Makes N attempts one after another (TCP: a connection each; UDP: a
// datagram each, from a fresh port unless --sport) and prints one line per
// attempt: the server's answer ("<namespace>/<pod> <ip>:<port>"), or
// "error <reason>" (timeout, ECONNREFUSED, a reply from another address...).
// --peer (TCP) adds " peer <ip>:<port>": the peer the socket reports
// (getpeername), which connect-time translation must keep the frontend.
// Exit status: 0 every attempt answered, 1 some did not, 2 usage error.
import dgram from 'node:dgram';
import net from 'node:net';
import { number, parseClientArgs, runClient } from './clientArgs.ts';

export interface ProbeOptions {
  proto: 'tcp' | 'udp';
  ip: string;
  port: number;
  count: number; // at most MAX_COUNT
  timeoutMs: number; // per attempt, at most MAX_TIMEOUT_MS
  source?: string; // bind to this address
  sport?: number; // and this port
  peer?: boolean; // TCP: add the socket's peer (getpeername) to each answer
}

export type Answer = { ok: true; line: string } | { ok: false; error: string };

export const MAX_COUNT = 10_000;
export const MAX_TIMEOUT_MS = 60_000;

const firstLine = (b: string) => b.slice(0, b.indexOf('\n'));

function tcpOnce(o: ProbeOptions): Promise<Answer> {
  return new Promise((resolve) => {
    let buf = '';
    const s = net.connect({ host: o.ip, port: o.port, localAddress: o.source, localPort: o.sport });
    const done = (a: Answer) => {
      clearTimeout(timer);
      s.destroy();
      resolve(a);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), o.timeoutMs);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      if (buf.includes('\n')) done({ ok: true, line: `${firstLine(buf)}${o.peer ? ` peer ${s.remoteAddress}:${s.remotePort}` : ''}` });
    });
    s.on('end', () => done({ ok: false, error: `closed without an answer${buf ? ` (got "${buf}")` : ''}` }));
    s.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, error: e.code ?? e.message }));
  });
}

function udpOnce(o: ProbeOptions, sock: dgram.Socket): Promise<Answer> {
  return new Promise((resolve) => {
    const done = (a: Answer) => {
      clearTimeout(timer);
      sock.removeListener('message', onMessage);
      resolve(a);
    };
    // Unconnected, so a reply from the wrong address (a missed reverse NAT) is seen and named, not filtered.
    const onMessage = (msg: Buffer, from: dgram.RemoteInfo) => {
      if (from.address === o.ip && from.port === o.port) done({ ok: true, line: firstLine(`${msg.toString('utf8')}\n`) });
      else done({ ok: false, error: `reply from ${from.address}:${from.port}, not ${o.ip}:${o.port}: ${firstLine(`${msg}\n`)}` });
    };
    const timer = setTimeout(() => done({ ok: false, error: 'timeout' }), o.timeoutMs);
    sock.on('message', onMessage);
    sock.send('probe\n', o.port, o.ip, (e) => e && done({ ok: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
  });
}

function udpSocket(o: ProbeOptions): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: o.sport !== undefined });
  return new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ address: o.source, port: o.sport ?? 0 }, () => resolve(sock));
  });
}

/** Every attempt's answer, in order. */
export async function probe(o: ProbeOptions): Promise<Answer[]> {
  const answers: Answer[] = [];
  const shared = o.proto === 'udp' && o.sport !== undefined ? await udpSocket(o) : undefined;
  try {
    for (let i = 0; i < Math.min(o.count, MAX_COUNT); i++) {
      if (o.proto === 'tcp') answers.push(await tcpOnce(o));
      else {
        const sock = shared ?? await udpSocket(o);
        try {
          answers.push(await udpOnce(o, sock));
        } finally {
          if (!shared) sock.close();
        }
      }
    }
  } finally {
    shared?.close();
  }
  return answers;
}

const USAGE = 'probe.ts tcp|udp IP PORT [--count N] [--timeout MS] [--source IP] [--sport PORT] [--peer]';

/** The options, or what is wrong with argv. */
export function parseProbeArgs(argv: readonly string[]): ProbeOptions | string {
  const p = parseClientArgs(argv, {
    proto: true,
    flags: {
      count: number(1, MAX_COUNT, { default: 1, short: 'n' }), timeout: number(1, MAX_TIMEOUT_MS, { default: 1000, unit: 'ms' }),
      source: { kind: 'ipv4' }, sport: number(1, 65535), peer: { kind: 'switch' },
    },
  });
  if (typeof p === 'string') return p;
  const f = p.flags as { count: number; timeout: number; source?: string; sport?: number; peer?: boolean };
  return { proto: p.proto, ip: p.ip, port: p.port, count: f.count, timeoutMs: f.timeout, source: f.source, sport: f.sport, peer: f.peer };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runClient('probe', USAGE, parseProbeArgs, async (o) => {
    const answers = await probe(o);
    process.stdout.write(answers.map((a) => (a.ok ? a.line : `error ${a.error}`)).join('\n') + '\n');
    return answers.every((a) => a.ok) ? 0 : 1;
  });
}
