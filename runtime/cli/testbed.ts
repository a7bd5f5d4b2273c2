// sluice testbed: a cluster made of network namespaces from a snapshot, for
// trying the datapath on one machine (root). The work is in runtime/testbed/.
import { parseArgs } from 'node:util';
import { isIPv4 } from 'node:net';
import { down } from '../testbed/down.ts';
import { execIn, TARGET_FORMS } from '../testbed/exec.ts';
import { DEFAULT_PREFIX, prefixProblem } from '../testbed/names.ts';
import { readState, type RpFilter, type Wiring } from '../testbed/state.ts';
import { summary } from '../testbed/summary.ts';
import { up, update } from '../testbed/testbed.ts';
import { UsageError, type Io } from './io.ts';

const DEFAULT_TTL = 6 * 3600;

export const TESTBED_USAGE = `usage: sluice testbed <command> [args] (as root)

  up <file>... [--no-sluice] [--ttl SECONDS] [--client-ip IP,...] [--rp-filter 0|2] [--routed]
          make a cluster of network namespaces from a snapshot: one per Node
          (on an underlay bridge), one per Pod with podIP (a veth to its node,
          an echo server on each containerPort, TCP and UDP), an external
          client; then \`sluice apply\` on every node (not with --no-sluice)
  apply <file>... [--no-sluice]
          move the testbed to another snapshot: only pods that appeared,
          vanished or changed are made or removed; then sluice apply again
  exec TARGET -- CMD [ARG...]
          run CMD in TARGET's namespace: ${TARGET_FORMS}
  status  print what the testbed holds
  down    remove every namespace, process, pin and file of the testbed, also
          after a crash

  --prefix P        names the testbed (default ${DEFAULT_PREFIX}): namespaces P-*, pins
                    /sys/fs/bpf/P/<node>, state /run/sluice-testbed/P.json
  --no-sluice       plain routing only: do not run sluice apply
  --ttl SECONDS     echo servers exit by themselves after this (default ${DEFAULT_TTL})
  --client-ip IPS   extra addresses for the external client (on its lo), to
                    source traffic from (e.g. inside loadBalancerSourceRanges)
  --rp-filter N     the nodes' rp_filter: 2, systemd's default (default), or 0,
                    the kernel's; every other sysctl of a node is the kernel's
                    default, but for ip_forward=1
  --routed          join nodes and the external client through a router
                    namespace, a link each, instead of one bridge
  -h, --help        print this text

Echo servers answer "<namespace>/<pod> <client ip>:<client port>"; try
  sluice testbed exec external -- node runtime/testbed/probe.ts tcp 10.244.1.11 8080

Exit status: 0 done, 1 failed (one line says why; a failed up removes what it
made), 2 usage error; exec exits with CMD's status.
`;

const SUBCOMMANDS = ['up', 'apply', 'exec', 'status', 'down'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

export interface TestbedArgs {
  sub: Sub;
  prefix: string;
  files: string[];
  sluice: boolean;
  ttl: number;
  clientIps: string[];
  rpFilter: RpFilter;
  wiring: Wiring;
  target?: string;
  command: string[];
}

/** Returns undefined for --help. */
export function parseTestbedArgs(args: readonly string[]): TestbedArgs | undefined {
  const dash = args.indexOf('--');
  const [sub, ...rest] = dash < 0 ? args : args.slice(0, dash);
  const command = dash < 0 ? [] : args.slice(dash + 1);
  if (sub === '--help' || sub === '-h') return undefined;
  if (!(SUBCOMMANDS as readonly (string | undefined)[]).includes(sub)) {
    throw new UsageError(sub === undefined ? 'no testbed command given' : `unknown testbed command "${sub}"`);
  }
  let p;
  try {
    p = parseArgs({
      args: rest, allowPositionals: true,
      options: {
        prefix: { type: 'string', default: DEFAULT_PREFIX }, 'no-sluice': { type: 'boolean' }, ttl: { type: 'string' },
        'client-ip': { type: 'string' }, 'rp-filter': { type: 'string' }, routed: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, { cause: e });
  }
  const v = p.values;
  if (v.help) return undefined;
  const s = sub as Sub;
  const problem = prefixProblem(v.prefix);
  if (problem) throw new UsageError(problem);
  const only = (flag: string, subs: Sub[]) => {
    if (v[flag as keyof typeof v] !== undefined && !subs.includes(s)) throw new UsageError(`--${flag} is for ${subs.join(' and ')}, not ${s}`);
  };
  only('no-sluice', ['up', 'apply']);
  only('ttl', ['up']);
  only('client-ip', ['up']);
  only('rp-filter', ['up']);
  only('routed', ['up']);
  if ((s === 'up' || s === 'apply') && p.positionals.length === 0) throw new UsageError('no input files');
  if ((s === 'status' || s === 'down') && p.positionals.length > 0) throw new UsageError(`${s} takes no files`);
  if (s !== 'exec' && dash >= 0) throw new UsageError(`"--" is for exec only`);
  if (s === 'exec' && (p.positionals.length !== 1 || command.length === 0)) throw new UsageError('exec needs one TARGET, then -- and a command');
  const ttl = v.ttl === undefined ? DEFAULT_TTL : Number(v.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 7 * 86400) throw new UsageError(`--ttl must be 1-${7 * 86400} seconds`);
  if (v['rp-filter'] !== undefined && v['rp-filter'] !== '0' && v['rp-filter'] !== '2') {
    throw new UsageError(`--rp-filter must be 0 (the kernel's default) or 2 (systemd's), not "${v['rp-filter']}"`);
  }
  const rpFilter: RpFilter = v['rp-filter'] === '0' ? 0 : 2;
  const clientIps = v['client-ip'] === undefined ? [] : v['client-ip'].split(',');
  const bad = clientIps.find((ip) => !isIPv4(ip));
  if (bad !== undefined) throw new UsageError(`--client-ip: "${bad}" is not an IPv4 address`);
  return {
    sub: s, prefix: v.prefix, files: s === 'exec' ? [] : p.positionals, sluice: !v['no-sluice'], ttl, clientIps, rpFilter,
    wiring: v.routed ? 'routed' : 'bridged',
    target: s === 'exec' ? p.positionals[0] : undefined, command,
  };
}

export function testbedCommand(args: readonly string[], io: Io): number {
  const a = parseTestbedArgs(args);
  if (!a) {
    io.out(TESTBED_USAGE);
    return 0;
  }
  const log = (line: string) => io.err(`testbed ${a.prefix}: ${line}\n`);
  try {
    switch (a.sub) {
      case 'up':
        io.out(summary(up({ files: a.files, prefix: a.prefix, sluice: a.sluice, ttl: a.ttl, clientIps: a.clientIps, rpFilter: a.rpFilter, wiring: a.wiring }, log)));
        return 0;
      case 'apply': {
        const r = update(a.prefix, a.files, !a.sluice, log);
        if (r.added.length + r.removed.length === 0) log('no pod changed');
        io.out(summary(readState(a.prefix)!));
        return 0;
      }
      case 'exec': {
        const state = readState(a.prefix);
        if (!state) throw new Error(`no testbed ${a.prefix} is up`);
        return execIn(state, a.target!, a.command);
      }
      case 'status': {
        const state = readState(a.prefix);
        if (!state) throw new Error(`no testbed ${a.prefix} is up`);
        io.out(summary(state));
        return 0;
      }
      case 'down':
        return down(a.prefix, log).warnings.length > 0 ? 1 : 0;
    }
  } catch (e) {
    io.err(`sluice testbed ${a.sub}: ${(e as Error).message}\n`);
    return 1;
  }
}
