// The NodePort benchmark's figures: per lane, medians over reps of each
// rep's connect and total time percentiles (p50, p99), ratios to kube-proxy's
// nftables mode, the issue's goals, a console table, the markdown of results/*.md
// section and the chart. Pure.
import { median, table } from '../stats.ts';
import { barChart, type Panel, type Series } from './barChart.ts';
import type { LaneInfo } from './pod2podReport.ts';
import { fmt, quietestAlike, type Goal } from './summary.ts';

interface Percentiles { p50: number; p90: number; p99: number; min: number; max: number; mean: number }

export interface NodePortSample {
  lane: string;
  rep: number;
  slot: number;
  bgBusy: number;
  loadAvg: number;
  count?: number;
  failures?: number;
  connect?: Percentiles;
  total?: Percentiles;
  error?: string;
}

export interface NodePortRow {
  lane: string;
  reps: number;
  measured: number;
  connectP50: number;
  connectP50Min: number;
  connectP50Max: number;
  connectP99: number;
  totalP50: number;
  totalP50Min: number;
  totalP50Max: number;
  totalP99: number;
  connectToNft: number;
  totalToNft: number;
  failures: number;
  bgBusy: number;
  loadAvg: number;
  loadSeconds: number;
  error?: string;
}

const ok = (s: NodePortSample) => s.error === undefined && s.connect !== undefined && s.total !== undefined;
const med = (xs: number[]) => (xs.length ? median(xs) : NaN);

export function nodePortRows(samples: readonly NodePortSample[], lanes: readonly LaneInfo[], busyThreshold: number, loadSeconds: (lane: string) => number): NodePortRow[] {
  const chosen = quietestAlike(lanes.map(({ id }) => samples.filter((s) => s.lane === id && ok(s))), busyThreshold);
  const used = (lane: string) => chosen[lanes.findIndex((l) => l.id === lane)] ?? [];
  const nft = used('nft');
  const nftConnect = med(nft.map((s) => s.connect!.p50)), nftTotal = med(nft.map((s) => s.total!.p50));
  return lanes.flatMap(({ id }): NodePortRow[] => {
    const all = samples.filter((s) => s.lane === id);
    if (all.length === 0) return [];
    const good = used(id);
    const c50 = good.map((s) => s.connect!.p50), t50 = good.map((s) => s.total!.p50);
    return [{
      lane: id, reps: good.length, measured: all.filter(ok).length,
      connectP50: med(c50), connectP50Min: Math.min(...c50), connectP50Max: Math.max(...c50), connectP99: med(good.map((s) => s.connect!.p99)),
      totalP50: med(t50), totalP50Min: Math.min(...t50), totalP50Max: Math.max(...t50), totalP99: med(good.map((s) => s.total!.p99)),
      connectToNft: med(c50) / nftConnect, totalToNft: med(t50) / nftTotal,
      failures: all.reduce((n, s) => n + (s.failures ?? 0), 0),
      bgBusy: med(good.map((s) => s.bgBusy)), loadAvg: med(good.map((s) => s.loadAvg)), loadSeconds: loadSeconds(id), error: all.find((s) => s.error)?.error,
    }];
  });
}

/**
 * The floor beside the goal: what the NodePort path adds to a plain routed
 * connect, for sluice and for the goal's 0.8 x nftables mode.
 */
export function nodePortFloor(rows: readonly NodePortRow[]): string[] {
  const row = (id: string) => rows.find((r) => r.lane === id && r.reps > 0);
  const f = row('floor'), s = row('sluice'), n = row('nft');
  if (!f || !s || !n) return [];
  return [`The floor (the backend's own address, routed through node-a: no Service, no NAT): connect p50 ${fmt(f.connectP50)} µs = ` +
    `${fmt(f.connectToNft, 2)} x nftables mode's. Above it: sluice ${fmt(s.connectP50 - f.connectP50)} µs, nftables mode ` +
    `${fmt(n.connectP50 - f.connectP50)} µs; the goal (0.8 x nftables, ${fmt(0.8 * n.connectP50)} µs) leaves ${fmt(0.8 * n.connectP50 - f.connectP50)} µs.`];
}

/** The issue's goals: sluice's connect p50 <= 0.8 x nftables mode's; with --dsr, total time below sluice's default. */
export function nodePortGoals(rows: readonly NodePortRow[]): Goal[] {
  const row = (id: string) => rows.find((r) => r.lane === id && r.reps > 0);
  const s = row('sluice'), d = row('sluice-dsr'), n = row('nft');
  const out: Goal[] = [{
    text: 'sluice connect p50 <= 0.8 x kube-proxy nftables mode',
    value: s && n ? `${fmt(s.connectP50)} / ${fmt(n.connectP50)} µs = ${fmt(s.connectToNft, 2)} x` : 'not measured',
    met: s && n ? s.connectToNft <= 0.8 : undefined,
  }];
  for (const p of ['P50', 'P99'] as const) {
    const a = d?.[`total${p}`], b = s?.[`total${p}`];
    out.push({
      text: `sluice --dsr total time ${p.toLowerCase()} < sluice (SNAT)`,
      value: a !== undefined && b !== undefined ? `${fmt(a)} / ${fmt(b)} µs = ${fmt(a / b, 2)} x` : 'not measured',
      met: a !== undefined && b !== undefined ? a < b : undefined,
    });
  }
  return out;
}

const used = (r: { reps: number; measured: number }) => (r.reps === r.measured ? String(r.reps) : `${r.reps} of ${r.measured}`);
const x = (v: number) => (Number.isNaN(v) ? '-' : `${fmt(v, 2)} x`);

export function nodePortTable(rows: readonly NodePortRow[], lanes: readonly LaneInfo[]): string {
  const label = (id: string) => lanes.find((l) => l.id === id)?.label ?? id;
  return table([
    ['lane', 'connect p50', 'range', 'p99', 'total p50', 'range', 'p99', 'connect/nft', 'total/nft', 'failed', 'reps', 'busy', 'load'],
    ...rows.map((r) => [label(r.lane), fmt(r.connectP50), r.reps ? `${fmt(r.connectP50Min)}-${fmt(r.connectP50Max)}` : (r.error ?? '-').slice(0, 40), fmt(r.connectP99),
      fmt(r.totalP50), r.reps ? `${fmt(r.totalP50Min)}-${fmt(r.totalP50Max)}` : '-', fmt(r.totalP99), x(r.connectToNft), x(r.totalToNft), r.failures, used(r),
      fmt(r.bgBusy, 2), fmt(r.loadAvg, 1)]),
  ]);
}

export interface NodePortFacts {
  date: string;
  machine: string;
  minutes: number;
  reps: number;
  count: number;
  services: number;
  load: { min: number; median: number; max: number };
  busy: { overThreshold: number; samples: number; threshold: number };
  notes: string[];
}

const mdRow = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const verdict = (g: Goal) => (g.met === undefined ? 'not measured' : g.met ? 'met' : 'NOT met');

export function nodePortMarkdown(rows: readonly NodePortRow[], goals: readonly Goal[], lanes: readonly LaneInfo[], f: NodePortFacts): string {
  const label = (id: string) => lanes.find((l) => l.id === id)?.label ?? id;
  const o = [`Measured ${f.date} on ${f.machine}, in ${fmt(f.minutes, 1)} min, ${f.reps} reps of ${f.count} GETs per lane (µs; medians over reps ` +
    `of each rep's percentiles), load average ${fmt(f.load.min, 1)}-${fmt(f.load.max, 1)} (median ${fmt(f.load.median, 1)}) over the samples; ` +
    `${f.busy.overThreshold} of ${f.busy.samples} samples started with the machine more than ${f.busy.threshold} busy.${f.notes.length ? ` ${f.notes.join(' ')}` : ''}`, ''];
  o.push(mdRow(['lane', 'connect p50', 'range', 'connect p99', 'total p50', 'range', 'total p99', 'connect p50 / nftables', 'total p50 / nftables', 'failed', 'reps', 'busy', 'load avg']),
    mdRow(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const r of rows) {
    const bold = (v: string) => (r.lane.startsWith('sluice') ? `**${v}**` : v);
    o.push(mdRow([label(r.lane), bold(fmt(r.connectP50)), r.reps ? `${fmt(r.connectP50Min)}–${fmt(r.connectP50Max)}` : `failed: ${r.error}`, fmt(r.connectP99),
      bold(fmt(r.totalP50)), r.reps ? `${fmt(r.totalP50Min)}–${fmt(r.totalP50Max)}` : '–', fmt(r.totalP99), x(r.connectToNft), x(r.totalToNft), r.failures, used(r),
      fmt(r.bgBusy, 2), fmt(r.loadAvg, 1)]));
  }
  o.push('', 'Goals:', '', ...goals.map((g) => `- ${g.text}: ${g.value} — **${verdict(g)}**`), '');
  return o.join('\n');
}

export function nodePortChart(rows: readonly NodePortRow[], lanes: readonly LaneInfo[], subtitle: string): string {
  const series: Series[] = lanes.filter((l) => rows.some((r) => r.lane === l.id)).map((l) => ({ key: l.id, label: l.label, color: l.color }));
  const good = rows.filter((r) => r.reps > 0);
  // a panel per figure, each to its own scale: a loaded machine's p99 would flatten the p50s
  const panels: Panel[] = (['connect', 'total'] as const).flatMap((k) => (['P50', 'P99'] as const).map((p) => ({
    title: `${k === 'connect' ? 'connect (SYN to SYN/ACK)' : 'total (to the last byte of the page)'}, ${p.toLowerCase()}`, axis: 'µs', digits: 0,
    groups: [{ label: '', bars: good.map((r) => ({ key: r.lane, value: r[`${k}${p}`], ...(p === 'P50' ? { min: r[`${k}P50Min`], max: r[`${k}P50Max`] } : {}) })) }],
  })));
  return barChart('NodePort: external client -> node-a -> backend on node-b, HTTP GET of 612 bytes', subtitle, panels, series,
    'bars: median over reps of each rep\'s percentile; whiskers: the reps\' lowest and highest p50');
}
