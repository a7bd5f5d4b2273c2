// The figures as a console table and as the markdown of results/*.md. Pure.
import { table } from '../stats.ts';
import { LABELS } from './dataplanes.ts';
import { fmt, type Goal, type LatencyRow, type ThroughputRow } from './summary.ts';

const ratio = (x: number | undefined, none = '-') => (x === undefined ? none : fmt(x, 2));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const brief = (e: string | undefined) => (e === undefined ? '-' : e.length > 60 ? `${e.slice(0, 57)}...` : e);
/** "20", or "14 of 20" when samples taken on a busy machine were left out. */
const used = (r: { reps: number; measured: number }) => (r.reps === r.measured ? String(r.reps) : `${r.reps} of ${r.measured}`);
const verdict = (g: Goal) => (g.met === undefined ? 'not measured' : g.met ? 'met' : 'NOT met');

export function latencyTable(rows: readonly LatencyRow[]): string {
  return table([
    ['dataplane', 'services', 'p50 µs', 'p50 range', 'p99 µs', 'p50/floor', 'p50/nftables', 'load s', 'reps', 'busy'],
    ...rows.map((r) => [LABELS[r.dataplane], r.dataplane === 'floor' ? '-' : r.services, fmt(r.p50), r.reps ? `${fmt(r.p50Min)}-${fmt(r.p50Max)}` : brief(r.error),
      fmt(r.p99), ratio(r.toFloor), ratio(r.toNft), r.dataplane === 'floor' ? '-' : fmt(r.loadSeconds, 2), used(r), fmt(r.bgBusy, 2)]),
  ]);
}

export function throughputTable(rows: readonly ThroughputRow[]): string {
  return table([
    ['dataplane', 'MTU', 'Gbit/s', 'range', 'of floor', 'busy cores', 'core-s/Gbit', 'reps', 'busy'],
    ...rows.map((r) => [LABELS[r.dataplane], r.mtu, fmt(r.gbps, 2), r.reps ? `${fmt(r.gbpsMin, 1)}-${fmt(r.gbpsMax, 1)}` : brief(r.error),
      Number.isNaN(r.toFloor) ? '-' : `${fmt(r.toFloor * 100, 0)}%`, fmt(r.busyCores, 2), fmt(r.coreSecondsPerGbit, 3), used(r), fmt(r.bgBusy, 2)]),
  ]);
}

export function goalLines(goals: readonly Goal[]): string {
  return goals.map((g) => `${verdict(g).padEnd(12)} ${g.text}: ${g.value}`).join('\n');
}

export interface RunFacts {
  command: string;
  date: string;
  machine: string;
  minutes: number;
  maxMinutes: number;
  timeBoundHit: boolean;
  busy: { median: number; max: number; overThreshold: number; samples: number; threshold: number };
  latency?: { reps: number; connects: number; warmup: number };
  throughput?: { reps: number; seconds: number; services: number };
}

const mdRow = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

export function markdownSection(lat: readonly LatencyRow[], tput: readonly ThroughputRow[], goals: readonly Goal[], f: RunFacts): string {
  const o: string[] = ['### Datapath: connect latency and throughput against kube-proxy', ''];
  o.push(`\`${f.command}\` (root) measures every dataplane side by side in one run, on the same topology: per dataplane ` +
    'and number of services a set of network namespaces (a client pod and 5 backend pods, each on a veth to a node ' +
    'namespace that routes between them and holds the dataplane), plus one set for the floor. All are loaded first, then ' +
    'measured rep by rep in rotating order, each sample after a bounded wait for a quiet machine.', '',
  '- kube-proxy\'s modes get the rules it would write for the services (one plain `iptables-restore` or `nft -f`, as the ' +
    'baselines load them); sluice gets `sluice apply` of a generated kubectl-style snapshot: the real compiler, loader and ' +
    'pinned maps, with its tc programs on the pod veths of the node namespace.',
  '- Every service has 5 endpoints. The probe is the last service added; its endpoints are the 5 backend pods, the ' +
    'others\' are addresses nothing is sent to.',
  '- The floor has no rules: the client connects to the 5 backend pod IPs in turn, through the same node.',
  '- Latency is `bench/datapath/connlat.c`: per connection socket(), connect() timed (SYN out to SYN/ACK back), close() ' +
    'by RST, so each SYN is a new flow. Throughput is one iperf3 stream (to the one pod of an iperf3 service).', '');
  o.push(`Measured ${f.date} on ${f.machine}, in ${fmt(f.minutes, 1)} min` +
    `${f.timeBoundHit ? ` (stopped by the ${f.maxMinutes}-minute time bound: the reps column shows what was taken)` : ''}. Machine busy fraction before a sample: median ` +
    `${fmt(f.busy.median, 2)}, max ${fmt(f.busy.max, 2)}; ${f.busy.overThreshold} of ${f.busy.samples} samples started above ` +
    `${f.busy.threshold} after the wait timed out. A row's figures leave those out when at least 3 and half of its samples ` +
    'started quiet ("reps": used of measured); its busy column is the median of the samples used.', '');
  o.push('```', 'npm run bench -- datapath            # as root; the full run, about 15 minutes; results in bench/results/',
    'npm run bench -- datapath --smoke    # under a minute, fewer sizes and reps; results in build/bench/datapath-smoke/',
    'npm run bench -- datapath --cleanup  # removes what a killed run left (namespaces sldp<pid>-*, pins, scratch)',
    'npm run bench -- datapath --help     # every flag', '```', '');
  o.push('![connect p50 against services](bench/results/datapath.svg)', '');
  if (f.latency) {
    o.push(`TCP connect latency, client pod to ClusterIP (µs; median over ${plural(f.latency.reps, 'rep')} of ${f.latency.connects} connects each, ` +
      'after a warm-up; p50 range is the reps\' lowest and highest p50):', '');
    o.push(mdRow(['dataplane', 'services', 'p50', 'p50 range', 'p99', 'p50 / floor', 'p50 / nftables', 'load s', 'reps', 'busy']),
      mdRow(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const r of lat) {
      o.push(mdRow([LABELS[r.dataplane], r.dataplane === 'floor' ? '–' : r.services.toLocaleString('en-US'), r.dataplane === 'sluice' ? `**${fmt(r.p50)}**` : fmt(r.p50),
        r.reps ? `${fmt(r.p50Min)}–${fmt(r.p50Max)}` : `failed: ${r.error}`, fmt(r.p99), ratio(r.toFloor), ratio(r.toNft, '–'),
        r.dataplane === 'floor' ? '–' : fmt(r.loadSeconds, 2), used(r), fmt(r.bgBusy, 2)]));
    }
    o.push('');
  }
  if (f.throughput && tput.length) {
    o.push(`Single-stream TCP throughput through a ClusterIP (iperf3 -t ${f.throughput.seconds}, ${plural(f.throughput.reps, 'rep')}, ` +
      `${f.throughput.services.toLocaleString('en-US')} services; CPU is the whole machine's from /proc/stat):`, '');
    o.push(mdRow(['dataplane', 'MTU', 'Gbit/s', 'range', 'of floor', 'busy cores', 'core-s per Gbit', 'reps', 'busy']),
      mdRow(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    for (const r of tput) {
      o.push(mdRow([LABELS[r.dataplane], r.mtu, fmt(r.gbps, 2), r.reps ? `${fmt(r.gbpsMin, 1)}–${fmt(r.gbpsMax, 1)}` : `failed: ${r.error}`,
        Number.isNaN(r.toFloor) ? '–' : `${fmt(r.toFloor * 100, 0)}%`, fmt(r.busyCores, 2), fmt(r.coreSecondsPerGbit, 3), used(r), fmt(r.bgBusy, 2)]));
    }
    o.push('');
  }
  o.push('Goals:', '', ...goals.map((g) => `- ${g.text}: ${g.value} — **${verdict(g)}**`), '');
  return o.join('\n');
}
