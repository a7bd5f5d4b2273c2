// The pod-to-pod benchmark's figures: per lane and MTU, medians over reps of
// throughput and of CPU per Gbit (the qperf processes' and the machine's),
// each as a ratio to the floor at that MTU; the goals and the direct
// lane beside them; a console table, the markdown of results/*.md and the
// chart. Pure.
import { median, table } from '../stats.ts';
import { barChart, type Panel, type Series } from './barChart.ts';
import { fmt, quietestAlike, type Goal } from './summary.ts';

export interface Pod2podSample {
  lane: string;
  mtu: number;
  rep: number;
  slot: number;
  bgBusy: number; // busy fraction of the machine just before
  loadAvg: number; // 1-minute load average just before
  gbps?: number;
  busyCores?: number;
  machineCoreSecondsPerGbit?: number;
  processCoreSecondsPerGbit?: number;
  error?: string;
}

export interface Pod2podRow {
  lane: string;
  mtu: number;
  reps: number;
  measured: number;
  gbps: number;
  gbpsMin: number;
  gbpsMax: number;
  gbpsToFloor: number;
  processCpg: number; // core-s per Gbit, the qperf processes'
  processCpgMin: number;
  processCpgMax: number;
  processToFloor: number;
  machineCpg: number;
  machineToFloor: number;
  bgBusy: number;
  loadAvg: number;
  loadSeconds: number;
  error?: string;
}

export interface LaneInfo { id: string; label: string; color: string }

const ok = (s: Pod2podSample) => s.error === undefined && s.gbps !== undefined;
const med = (xs: number[]) => (xs.length ? median(xs) : NaN);

export function pod2podRows(samples: readonly Pod2podSample[], lanes: readonly LaneInfo[], mtus: readonly number[], busyThreshold: number,
  loadSeconds: (lane: string, mtu: number) => number): Pod2podRow[] {
  const chosen = new Map(mtus.map((mtu) => [mtu, quietestAlike(lanes.map(({ id }) => samples.filter((s) => s.lane === id && s.mtu === mtu && ok(s))), busyThreshold)]));
  const used = (lane: string, mtu: number) => chosen.get(mtu)![lanes.findIndex((l) => l.id === lane)] ?? [];
  return mtus.flatMap((mtu) => {
    const floor = used('floor', mtu);
    const fl = { gbps: med(floor.map((s) => s.gbps!)), proc: med(floor.map((s) => s.processCoreSecondsPerGbit!)), mach: med(floor.map((s) => s.machineCoreSecondsPerGbit!)) };
    return lanes.flatMap(({ id }): Pod2podRow[] => {
      const all = samples.filter((s) => s.lane === id && s.mtu === mtu);
      if (all.length === 0) return [];
      const good = used(id, mtu);
      const g = good.map((s) => s.gbps!), p = good.map((s) => s.processCoreSecondsPerGbit!), m = good.map((s) => s.machineCoreSecondsPerGbit!);
      return [{
        lane: id, mtu, reps: good.length, measured: all.filter(ok).length,
        gbps: med(g), gbpsMin: Math.min(...g), gbpsMax: Math.max(...g), gbpsToFloor: med(g) / fl.gbps,
        processCpg: med(p), processCpgMin: Math.min(...p), processCpgMax: Math.max(...p), processToFloor: med(p) / fl.proc,
        machineCpg: med(m), machineToFloor: med(m) / fl.mach,
        bgBusy: med(good.map((s) => s.bgBusy)), loadAvg: med(good.map((s) => s.loadAvg)), loadSeconds: loadSeconds(id, mtu),
        error: all.find((s) => s.error)?.error,
      }];
    });
  });
}

/** The goals: sluice's throughput >= 1.0 x the floor's, and CPU per Gbit <= 0.85 x, at each MTU. */
export function pod2podGoals(rows: readonly Pod2podRow[]): Goal[] {
  return [...new Set(rows.map((r) => r.mtu))].flatMap((mtu): Goal[] => {
    const s = rows.find((r) => r.lane === 'sluice' && r.mtu === mtu && r.reps > 0);
    const none = { value: 'not measured', met: undefined };
    if (!s) return [{ text: `sluice throughput at MTU ${mtu} >= 1.0 x the floor`, ...none }, { text: `sluice CPU per Gbit at MTU ${mtu} <= 0.85 x the floor`, ...none }];
    return [
      { text: `sluice throughput at MTU ${mtu} >= 1.0 x the floor`, value: `${fmt(s.gbps, 2)} Gbit/s = ${fmt(s.gbpsToFloor, 2)} x`, met: s.gbpsToFloor >= 1.0 },
      { text: `sluice CPU per Gbit at MTU ${mtu} <= 0.85 x the floor (qperf processes)`, value: `${fmt(s.processCpg, 3)} core-s/Gbit = ${fmt(s.processToFloor, 2)} x`, met: s.processToFloor <= 0.85 },
      { text: `sluice CPU per Gbit at MTU ${mtu} <= 0.85 x the floor (whole machine)`, value: `${fmt(s.machineCpg, 3)} core-s/Gbit = ${fmt(s.machineToFloor, 2)} x`, met: s.machineToFloor <= 0.85 },
    ];
  });
}

/**
 * The direct lane (the two pods on one veth pair, no node between them)
 * beside the floor, per MTU: the pods' own TCP work with no forwarding at
 * all, against the goal a datapath between two nodes is held to.
 */
export function pod2podDirect(rows: readonly Pod2podRow[]): string[] {
  return rows.filter((r) => r.lane === 'direct' && r.reps > 0).map((d) =>
    `Direct at MTU ${d.mtu} (the two pods on one veth pair, no node between them): ${fmt(d.processCpg, 3)} core-s/Gbit = ` +
    `${x(d.processToFloor)} the floor's CPU per Gbit (qperf), ${fmt(d.gbps, 2)} Gbit/s = ${x(d.gbpsToFloor)} its throughput` +
    (d.processToFloor > 0.85 ? `: a path with no node at all does not reach 0.85 x the floor's CPU per Gbit.` : '.'));
}

const used = (r: { reps: number; measured: number }) => (r.reps === r.measured ? String(r.reps) : `${r.reps} of ${r.measured}`);
const x = (v: number) => (Number.isNaN(v) ? '-' : `${fmt(v, 2)} x`);

export function pod2podTable(rows: readonly Pod2podRow[], lanes: readonly LaneInfo[]): string {
  const label = (id: string) => lanes.find((l) => l.id === id)?.label ?? id;
  return table([
    ['lane', 'MTU', 'Gbit/s', 'range', 'of floor', 'core-s/Gbit (qperf)', 'of floor', 'core-s/Gbit (machine)', 'of floor', 'reps', 'busy', 'load'],
    ...rows.map((r) => [label(r.lane), r.mtu, fmt(r.gbps, 2), r.reps ? `${fmt(r.gbpsMin, 1)}-${fmt(r.gbpsMax, 1)}` : (r.error ?? '-').slice(0, 40),
      x(r.gbpsToFloor), fmt(r.processCpg, 3), x(r.processToFloor), fmt(r.machineCpg, 3), x(r.machineToFloor), used(r), fmt(r.bgBusy, 2), fmt(r.loadAvg, 1)]),
  ]);
}

export interface Pod2podFacts {
  command: string;
  date: string;
  machine: string;
  minutes: number;
  reps: number;
  seconds: number;
  services: number;
  iptables: string;
  fastPath: string; // how the sluice lanes ran: which branch, what flag
  notes: string[];
  load: { min: number; median: number; max: number };
  busy: { median: number; overThreshold: number; samples: number; threshold: number };
}

const mdRow = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const verdict = (g: Goal) => (g.met === undefined ? 'not measured' : g.met ? 'met' : 'NOT met');

export function pod2podMarkdown(rows: readonly Pod2podRow[], goals: readonly Goal[], lanes: readonly LaneInfo[], f: Pod2podFacts): string {
  const label = (id: string) => lanes.find((l) => l.id === id)?.label ?? id;
  const o = [`Measured ${f.date} on ${f.machine}, in ${fmt(f.minutes, 1)} min, ${f.reps} reps of qperf -t ${f.seconds} per lane and MTU, ` +
    `load average ${fmt(f.load.min, 1)}-${fmt(f.load.max, 1)} (median ${fmt(f.load.median, 1)}) over the samples; ` +
    `${f.busy.overThreshold} of ${f.busy.samples} samples started with the machine more than ${f.busy.threshold} busy. ${f.fastPath}`, ''];
  o.push(mdRow(['lane', 'MTU', 'Gbit/s', 'range', 'of floor', 'core-s per Gbit (qperf)', 'of floor', 'core-s per Gbit (machine)', 'of floor', 'reps', 'busy', 'load avg']),
    mdRow(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const r of rows) {
    o.push(mdRow([label(r.lane), r.mtu, r.lane === 'sluice' ? `**${fmt(r.gbps, 2)}**` : fmt(r.gbps, 2),
      r.reps ? `${fmt(r.gbpsMin, 1)}–${fmt(r.gbpsMax, 1)}` : `failed: ${r.error}`, x(r.gbpsToFloor), fmt(r.processCpg, 3), x(r.processToFloor),
      fmt(r.machineCpg, 3), x(r.machineToFloor), used(r), fmt(r.bgBusy, 2), fmt(r.loadAvg, 1)]));
  }
  o.push('', ...f.notes.map((n) => `- ${n}`), '', 'Goals:', '', ...goals.map((g) => `- ${g.text}: ${g.value} — **${verdict(g)}**`), '');
  return o.join('\n');
}

export function pod2podChart(rows: readonly Pod2podRow[], lanes: readonly LaneInfo[], subtitle: string): string {
  const mtus = [...new Set(rows.map((r) => r.mtu))];
  const series: Series[] = lanes.filter((l) => rows.some((r) => r.lane === l.id)).map((l) => ({ key: l.id, label: l.label, color: l.color }));
  const groups = (bar: (r: Pod2podRow) => { value: number; min?: number; max?: number }) =>
    mtus.map((mtu) => ({ label: `MTU ${mtu}`, bars: rows.filter((r) => r.mtu === mtu && r.reps > 0).map((r) => ({ key: r.lane, ...bar(r) })) }));
  const panels: Panel[] = [
    { title: 'throughput, one TCP stream', axis: 'Gbit/s', groups: groups((r) => ({ value: r.gbps, min: r.gbpsMin, max: r.gbpsMax })) },
    { title: 'CPU per Gbit (qperf processes)', axis: 'core-seconds per Gbit', digits: 3,
      groups: groups((r) => ({ value: r.processCpg, min: r.processCpgMin, max: r.processCpgMax })) },
  ];
  return barChart('Pod to pod across two nodes: qperf tcp_bw', subtitle, panels, series,
    'bars: median over reps; whiskers: the reps\' lowest and highest');
}
