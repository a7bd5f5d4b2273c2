// The testbed clients' command lines (probe, hold, reopen, timed, rate):
// [tcp|udp] IP PORT, then flags, each a number in a range, an IPv4 address or
// a switch. One parser: each client states its flags as data, all word their
// errors alike, and runClient gives each the same usage line and exit
// statuses (2 on a usage error).
import net from 'node:net';
import { parseArgs } from 'node:util';

export interface NumberFlag {
  kind: 'number';
  min: number;
  max: number;
  default?: number;
  /** Said after the range in an error ("ms"). */
  unit?: string;
  /** Fractions allowed (default: whole numbers only). */
  real?: boolean;
  short?: string;
}
export type Flag = NumberFlag | { kind: 'ipv4' } | { kind: 'switch' };

export const number = (min: number, max: number, more: Omit<NumberFlag, 'kind' | 'min' | 'max'> = {}): NumberFlag => ({ kind: 'number', min, max, ...more });

export interface ClientSpec { proto: boolean; flags: { readonly [name: string]: Flag } }

export interface ClientArgs {
  /** When the spec asks for one. */
  proto: 'tcp' | 'udp';
  ip: string;
  port: number;
  /** Number flags: as given, else their default; ipv4 flags as given; switches true or undefined. */
  flags: { [name: string]: number | string | boolean | undefined };
}

const inRange = (t: string | undefined, f: Pick<NumberFlag, 'min' | 'max' | 'real'>) =>
  t !== undefined && (f.real ? /^\d+(\.\d+)?$/ : /^\d+$/).test(t) && +t >= f.min && +t <= f.max ? +t : undefined;

/** The arguments, or what is wrong with them (one line). */
export function parseClientArgs(argv: readonly string[], spec: ClientSpec): ClientArgs | string {
  const options = Object.fromEntries(Object.entries(spec.flags).map(([name, f]) =>
    [name, f.kind === 'switch' ? { type: 'boolean' as const } : { type: 'string' as const, ...(f.kind === 'number' && f.short ? { short: f.short } : {}) }]));
  let p;
  try {
    p = parseArgs({ args: [...argv], allowPositionals: true, options });
  } catch (e) {
    return (e as Error).message;
  }
  const positionals = spec.proto ? p.positionals : ['tcp', ...p.positionals];
  const [proto, ip, portText] = positionals;
  if (proto !== 'tcp' && proto !== 'udp') return 'the protocol is tcp or udp';
  if (!net.isIPv4(ip ?? '')) return 'IP must be an IPv4 address';
  const port = inRange(portText, { min: 1, max: 65535 });
  if (port === undefined || positionals.length !== 3) return 'PORT must be 1-65535, and nothing may follow it';
  const flags: ClientArgs['flags'] = {};
  for (const [name, f] of Object.entries(spec.flags)) {
    const given = p.values[name];
    if (f.kind === 'switch') {
      flags[name] = given as boolean | undefined;
    } else if (f.kind === 'ipv4') {
      if (given !== undefined && !net.isIPv4(given as string)) return `--${name} must be an IPv4 address`;
      flags[name] = given as string | undefined;
    } else {
      const v = given === undefined ? f.default : inRange(given as string, f);
      if (v === undefined && (given !== undefined || f.default !== undefined)) return `--${name} must be ${f.min}-${f.max}${f.unit ? ` ${f.unit}` : ''}`;
      flags[name] = v;
    }
  }
  return { proto, ip: ip!, port, flags };
}

/**
 * Runs a client as a program: its options from argv, or "NAME: what is wrong"
 * and the usage line with exit status 2; else main's exit status.
 */
export async function runClient<O>(name: string, usage: string, parse: (argv: readonly string[]) => O | string, main: (o: O) => Promise<number>): Promise<void> {
  const o = parse(process.argv.slice(2));
  if (typeof o === 'string') {
    process.stderr.write(`${name}: ${o}\nusage: ${usage}\n`);
    process.exitCode = 2;
    return;
  }
  process.exitCode = await main(o);
}
