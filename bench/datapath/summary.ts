// From samples to figures: medians over reps of each sample's percentiles,
// ratios to the floor and to nftables at the same number of services, and
// the goals, each met or not. A figure uses the samples that started
// on a quiet machine when there are enough of them (quietest), else all. Pure.
import { median } from '../stats.ts';
import type { Dataplane } from './dataplanes.ts';
import type { LatencySample } from './latency.ts';
import type { ThroughputSample } from './throughput.ts';

export interface LatencyRow {
  dataplane: Dataplane;
  services: number; // 0 for the floor
  reps: number; // samples the figures come from
  measured: number; // samples that measured (reps, plus those left out as taken on a busy machine)
  p50: number; // median over reps of each sample's p50, µs
  p50Min: number;
  p50Max: number;
  p99: number;
  toFloor: number; // p50 / the floor's p50
  toNft: number | undefined; // p50 / nftables' p50 at the same number of services
  loadSeconds: number;
  bgBusy: number; // median busy fraction before its samples
  error?: string;
}

const ok = (s: LatencySample) => s.error === undefined && s.p50 !== undefined;

/**
 * The samples that started below the busy threshold, if at least 3 and at
 * least half of them did; else all (a machine busy all along is still
 * measured, and its busy column says so).
 */
export function quietest<T extends { bgBusy: number }>(xs: readonly T[], threshold: number): readonly T[] {
  const quiet = xs.filter((x) => x.bgBusy >= 0 && x.bgBusy < threshold);
  return quiet.length >= Math.max(3, Math.ceil(xs.length / 2)) ? quiet : xs;
}

/**
 * quietest() for groups compared with each other (lanes of one run): each
 * group's quiet samples when every group has enough of them, else all of
 * every group, so no ratio sets quiet samples against busy ones.
 */
export function quietestAlike<T extends { bgBusy: number }>(groups: readonly (readonly T[])[], threshold: number): (readonly T[])[] {
  const quiet = groups.map((g) => quietest(g, threshold));
  return quiet.every((q, i) => q !== groups[i] || q.length === 0) ? quiet : [...groups];
}

/** The floor's row first, then per size each other dataplane's, in the order given. */
export function latencyRows(samples: readonly LatencySample[], dataplanes: readonly Dataplane[], sizes: readonly number[], busyThreshold: number): LatencyRow[] {
  const used = (dp: Dataplane, n: number) => quietest(samples.filter((s) => s.dataplane === dp && s.services === n && ok(s)), busyThreshold);
  const p50Of = (dp: Dataplane, n: number) => {
    const xs = used(dp, n).map((s) => s.p50!);
    return xs.length ? median(xs) : undefined;
  };
  const floor = p50Of('floor', 0);
  const cells = [{ dp: 'floor' as Dataplane, n: 0 }, ...sizes.flatMap((n) => dataplanes.filter((d) => d !== 'floor').map((dp) => ({ dp, n })))];
  return cells.flatMap(({ dp, n }): LatencyRow[] => {
    const all = samples.filter((s) => s.dataplane === dp && s.services === n);
    const measured = all.filter(ok).length, good = used(dp, n);
    if (all.length === 0) return [];
    const p50s = good.map((s) => s.p50!);
    const p50 = p50s.length ? median(p50s) : NaN;
    const nft = p50Of('nft', n);
    return [{
      dataplane: dp, services: n, reps: good.length, measured, p50, p50Min: Math.min(...p50s), p50Max: Math.max(...p50s),
      p99: good.length ? median(good.map((s) => s.p99!)) : NaN,
      toFloor: floor ? p50 / floor : NaN, toNft: nft && dp !== 'nft' && dp !== 'floor' ? p50 / nft : undefined,
      loadSeconds: all[0].loadSeconds, bgBusy: good.length ? median(good.map((s) => s.bgBusy)) : NaN,
      error: all.find((s) => s.error)?.error,
    }];
  });
}

export interface ThroughputRow {
  dataplane: Dataplane;
  mtu: number;
  reps: number; // runs the figures come from
  measured: number; // runs that measured
  gbps: number; // median
  gbpsMin: number;
  gbpsMax: number;
  toFloor: number;
  busyCores: number;
  coreSecondsPerGbit: number;
  bgBusy: number;
  error?: string;
}

export function throughputRows(samples: readonly ThroughputSample[], dataplanes: readonly Dataplane[], mtus: readonly number[], busyThreshold: number): ThroughputRow[] {
  const measured = (dp: Dataplane, mtu: number) => samples.filter((s) => s.dataplane === dp && s.mtu === mtu && s.gbps !== undefined && s.error === undefined);
  return mtus.flatMap((mtu) => {
    const floor = quietest(measured('floor', mtu), busyThreshold).map((s) => s.gbps!);
    return dataplanes.flatMap((dp): ThroughputRow[] => {
      const all = samples.filter((s) => s.dataplane === dp && s.mtu === mtu);
      const good = quietest(measured(dp, mtu), busyThreshold);
      if (all.length === 0) return [];
      const g = good.map((s) => s.gbps!);
      const gbps = g.length ? median(g) : NaN;
      return [{
        dataplane: dp, mtu, reps: good.length, measured: measured(dp, mtu).length, gbps, gbpsMin: Math.min(...g), gbpsMax: Math.max(...g),
        toFloor: floor.length ? gbps / median(floor) : NaN,
        busyCores: good.length ? median(good.map((s) => s.busyCores!)) : NaN,
        coreSecondsPerGbit: good.length ? median(good.map((s) => s.coreSecondsPerGbit!)) : NaN,
        bgBusy: good.length ? median(good.map((s) => s.bgBusy)) : NaN, error: all.find((s) => s.error)?.error,
      }];
    });
  });
}

export interface Goal { text: string; value: string; met: boolean | undefined }

const fmt = (x: number | undefined, d = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));

/** The goals for sluice, judged at the smallest and largest sizes measured. */
export function goals(lat: readonly LatencyRow[], tput: readonly ThroughputRow[]): Goal[] {
  const out: Goal[] = [];
  const row = (dp: Dataplane, n: number) => lat.find((r) => r.dataplane === dp && r.services === n && r.reps > 0);
  const sizes = [...new Set(lat.filter((r) => r.dataplane !== 'floor').map((r) => r.services))].sort((a, b) => a - b);
  if (sizes.length > 0) {
    const lo = sizes[0], hi = sizes.at(-1)!;
    const s = row('sluice', hi), s1 = row('sluice', lo), nft = row('nft', hi), floor = row('floor', 0);
    const check = (text: string, a: LatencyRow | undefined, b: LatencyRow | undefined, limit: number) => {
      const ratio = a && b ? a.p50 / b.p50 : undefined;
      out.push({ text, value: a && b ? `${fmt(a.p50)} / ${fmt(b.p50)} µs = ${fmt(ratio, 2)}` : 'not measured', met: ratio === undefined ? undefined : ratio <= limit });
    };
    if (hi !== lo) check(`sluice p50 at ${hi} services <= 1.05 x its p50 at ${lo}`, s, s1, 1.05);
    check(`sluice p50 at ${hi} services <= 0.8 x nftables mode's`, s, nft, 0.8);
    check(`sluice p50 at ${hi} services <= 1.2 x the floor`, s, floor, 1.2);
  }
  for (const mtu of [...new Set(tput.map((r) => r.mtu))]) {
    const s = tput.find((r) => r.dataplane === 'sluice' && r.mtu === mtu && r.reps > 0);
    out.push({
      text: `sluice throughput at MTU ${mtu} >= 95% of the floor`,
      value: s ? `${fmt(s.gbps, 2)} Gbit/s = ${fmt(s.toFloor * 100, 0)}%` : 'not measured',
      met: s && !Number.isNaN(s.toFloor) ? s.toFloor >= 0.95 : undefined,
    });
  }
  return out;
}

export { fmt };
