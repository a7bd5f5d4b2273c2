// Which of many frontends a namespace reaches, all at once, run inside it:
//   node reach.ts [--timeout MS] PROTO:IP:PORT...
// One attempt per target (as timed.ts makes them: TCP connect and the
// server's answer line, UDP a datagram and its answer), all concurrently, so
// a matrix of probes costs one timeout rather than one per denied target.
// Prints one JSON array, an element per target in the order given:
// {"target", "outcome": "answered" | error code | "timeout", "ms", "answer"?}.
// Exit status: 0 done (whatever the outcomes), 2 usage error.
import net from 'node:net';
import { parseArgs } from 'node:util';
import { attempt, type Attempt } from './timed.ts';

export const MAX_TARGETS = 256;

export interface Reached extends Attempt { target: string }

export function parseReachArgs(argv: readonly string[]): { targets: { target: string; proto: 'tcp' | 'udp'; ip: string; port: number }[]; timeoutMs: number } | string {
  let p;
  try {
    p = parseArgs({ args: [...argv], allowPositionals: true, options: { timeout: { type: 'string', default: '1000' } } });
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
  const timeoutMs = /^\d+$/.test(p.values.timeout) ? Number(p.values.timeout) : NaN;
  if (!(timeoutMs >= 1 && timeoutMs <= 10_000)) return '--timeout must be 1-10000 ms';
  if (p.positionals.length === 0 || p.positionals.length > MAX_TARGETS) return `give 1-${MAX_TARGETS} targets`;
  const targets = [];
  for (const target of p.positionals) {
    const [proto, ip, port] = target.split(':');
    if ((proto !== 'tcp' && proto !== 'udp') || !net.isIPv4(ip ?? '') || !/^\d+$/.test(port ?? '') || +port < 1 || +port > 65535) {
      return `not a target (tcp|udp:IP:PORT): ${target}`;
    }
    targets.push({ target, proto: proto as 'tcp' | 'udp', ip, port: Number(port) });
  }
  return { targets, timeoutMs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = parseReachArgs(process.argv.slice(2));
  if (typeof o === 'string') {
    process.stderr.write(`reach: ${o}\nusage: reach.ts [--timeout MS] PROTO:IP:PORT...\n`);
    process.exitCode = 2;
  } else {
    const out: Reached[] = await Promise.all(o.targets.map(async (t) => ({ target: t.target, ...await attempt({ ...t, count: 1, timeoutMs: o.timeoutMs }) })));
    process.stdout.write(JSON.stringify(out) + '\n');
  }
}
