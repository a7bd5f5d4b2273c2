// The datapath benchmark's flags. --smoke picks small values for a run under
// a minute; any flag given with it wins.
import { parseArgs } from 'node:util';
import { DATAPLANES, type Dataplane } from './dataplanes.ts';
import { DEFAULT_QUIET, type QuietWait } from './quiet.ts';

export const DATAPATH_USAGE = `usage: npm run bench -- datapath [flags]     (root)

Connect latency to a ClusterIP against the number of services, and
throughput through it, for sluice and kube-proxy's iptables (legacy and nft
backend) and nftables modes, against the floor (pod IP, no rules), side by
side in one run. Writes <out>/datapath-{latency,throughput}.jsonl,
<out>/datapath.svg and <out>/datapath.md.

  --smoke              small run (< 1 min): --sizes 1,1000 --reps 2
                       --connects 300 --warmup 50 --tput-reps 1
                       --tput-seconds 2 --mtus 1500 --tput-services 100
                       --quiet-max-ms 1000 --max-minutes 3
                       --out build/bench/datapath-smoke
  --cleanup            only remove what killed runs left (namespaces sldp<pid>-*,
                       pins under /sys/fs/bpf/sluice-bench, scratch files), then exit
  --sizes A,B,...      numbers of services (default 1,1000,5000,10000)
  --modes A,B,...      dataplanes among ${DATAPLANES.join(',')}
                       (default all; the floor is always measured)
  --phases A,B         latency,throughput (default both)
  --reps N             latency samples per dataplane and size (default 20)
  --connects N         connects per latency sample (default 2000)
  --warmup N           connects before each sample, not counted (default 200)
  --tput-reps N        throughput runs per dataplane and MTU (default 8)
  --tput-seconds N     iperf3 -t (default 5)
  --tput-services N    services loaded for throughput (default 1000)
  --mtus A,B           MTUs for throughput (default 1500,9000)
  --quiet-max-ms N     longest wait for a quiet machine per sample (default ${DEFAULT_QUIET.maxMs})
  --quiet-below F      busy fraction counted as quiet (default ${DEFAULT_QUIET.threshold})
  --max-minutes N      no sample starts after N minutes; what was measured is
                       reported (default 20; each load has its own bound too)
  --out DIR            where results go (default bench/results)
`;

export interface DatapathOptions {
  sizes: number[];
  dataplanes: Dataplane[];
  latency: boolean;
  throughput: boolean;
  reps: number;
  connects: number;
  warmup: number;
  tputReps: number;
  tputSeconds: number;
  tputServices: number;
  mtus: number[];
  quiet: QuietWait;
  maxMinutes: number;
  out: string;
}

const SMOKE = {
  'quiet-max-ms': '1000', sizes: '1,1000', reps: '2', connects: '300', warmup: '50', 'tput-reps': '1', 'tput-seconds': '2', mtus: '1500',
  'tput-services': '100', 'max-minutes': '3', out: 'build/bench/datapath-smoke',
};
const DEFAULTS = {
  'quiet-max-ms': String(DEFAULT_QUIET.maxMs), sizes: '1,1000,5000,10000', reps: '20', connects: '2000', warmup: '200', 'tput-reps': '8',
  'tput-seconds': '5', mtus: '1500,9000', 'tput-services': '1000', 'max-minutes': '20', out: 'bench/results',
};

/** A comma-separated list of integers in [min, max]; throws naming the flag. */
export function ints(flag: string, v: string, min: number, max: number): number[] {
  const xs = v.split(',').map((s) => s.trim());
  if (xs.some((s) => !/^\d+$/.test(s) || Number(s) < min || Number(s) > max)) throw new Error(`--${flag}: integers from ${min} to ${max}, not "${v}"`);
  return xs.map(Number);
}

/** The flags whose values every testbed benchmark takes, with a default each. */
type SharedValued = 'quiet-max-ms' | 'max-minutes' | 'out';

export interface BenchFlags<K extends string> {
  /** A flag's value: as given, else the smoke run's or the default. */
  get: (k: K | SharedValued) => string;
  /** A flag's one integer in [min, max]. */
  one: (k: K | SharedValued, min: number, max: number) => number;
  /** Flags that have no default (their absence means something). */
  raw: { [k: string]: string | boolean | undefined };
  quiet: QuietWait;
  maxMinutes: number;
  out: string;
}

/**
 * Parses a benchmark's flags: its own (each taking a value: own) and the
 * shared ones (--smoke, --cleanup, --help, --quiet-max-ms, --quiet-below,
 * --max-minutes, --out). Returns 'help' for --help and 'cleanup' for
 * --cleanup; throws on a bad flag.
 */
export function parseBenchFlags<K extends string>(args: readonly string[], own: readonly string[], defaults: Record<K | SharedValued, string>,
  smoke: Partial<Record<K | SharedValued, string>>): BenchFlags<K> | 'help' | 'cleanup' {
  const str = { type: 'string' } as const;
  const { values: v } = parseArgs({
    args: [...args], allowPositionals: false,
    options: {
      smoke: { type: 'boolean' }, cleanup: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, 'quiet-max-ms': str, 'quiet-below': str,
      'max-minutes': str, out: str, ...Object.fromEntries(own.map((k) => [k, str])),
    },
  });
  if (v.help) return 'help';
  if (v.cleanup) return 'cleanup';
  const raw: BenchFlags<K>['raw'] = v;
  const get = (k: K | SharedValued) => (raw[k] as string | undefined) ?? (v.smoke ? smoke[k] : undefined) ?? defaults[k];
  const one = (k: K | SharedValued, min: number, max: number) => ints(k, get(k), min, max)[0];
  const below = Number(v['quiet-below'] ?? DEFAULT_QUIET.threshold);
  if (!(below > 0 && below <= 1)) throw new Error(`--quiet-below: a fraction in (0, 1], not "${v['quiet-below']}"`);
  return {
    get, one, raw, quiet: { ...DEFAULT_QUIET, threshold: below, maxMs: one('quiet-max-ms', 0, 60_000) }, maxMinutes: one('max-minutes', 1, 600), out: get('out'),
  };
}

/** --iptables: which iptables kube-proxy's rules go through. */
export function iptablesFlag(v: string | boolean | undefined): 'legacy' | 'nft' {
  const ipt = v ?? 'legacy';
  if (ipt !== 'legacy' && ipt !== 'nft') throw new Error(`--iptables: legacy or nft, not "${ipt}"`);
  return ipt;
}

/** Returns 'help' for --help, 'cleanup' for --cleanup; throws on a bad flag. */
export function parseDatapathOptions(args: readonly string[]): DatapathOptions | 'help' | 'cleanup' {
  const f = parseBenchFlags(args, ['sizes', 'modes', 'phases', 'reps', 'connects', 'warmup', 'tput-reps', 'tput-seconds', 'tput-services', 'mtus'], DEFAULTS, SMOKE);
  if (f === 'help' || f === 'cleanup') return f;
  const { get, one, raw: v } = f;
  const modes = ((v.modes as string | undefined) ?? DATAPLANES.join(',')).split(',').map((s) => s.trim());
  const unknown = modes.filter((m) => !(DATAPLANES as readonly string[]).includes(m));
  if (unknown.length) throw new Error(`--modes: unknown ${unknown.join(', ')}; have ${DATAPLANES.join(', ')}`);
  const phases = ((v.phases as string | undefined) ?? 'latency,throughput').split(',').map((s) => s.trim());
  if (phases.some((p) => p !== 'latency' && p !== 'throughput')) throw new Error(`--phases: latency and/or throughput, not "${v.phases}"`);
  return {
    sizes: ints('sizes', get('sizes'), 1, 60_000),
    dataplanes: DATAPLANES.filter((d) => d === 'floor' || modes.includes(d)), // table order; the floor always
    latency: phases.includes('latency'), throughput: phases.includes('throughput'),
    reps: one('reps', 1, 100), connects: one('connects', 1, 100_000), warmup: one('warmup', 0, 10_000),
    tputReps: one('tput-reps', 1, 50), tputSeconds: one('tput-seconds', 1, 60), tputServices: one('tput-services', 1, 60_000),
    mtus: ints('mtus', get('mtus'), 1280, 65_000),
    quiet: f.quiet, maxMinutes: f.maxMinutes, out: f.out,
  };
}
