// The latency chart as a standalone SVG, written by hand: p50 connect
// latency against the number of services, one line per dataplane (the floor
// a level line), each point with a bar from the lowest to the highest p50 of
// its reps. Two panels on the same data: every dataplane to scale, and a
// zoom on the flat ones near the floor, where lines leaving the range are
// clipped. Pure.
import type { Dataplane } from './dataplanes.ts';
import { LABELS } from './dataplanes.ts';
import type { LatencyRow } from './summary.ts';

const W = 900, H = 530;
const TOP = 84, BOTTOM = 390;
const PANELS = [{ left: 70, right: 420 }, { left: 520, right: 870 }];
const STYLE: { readonly [d in Dataplane]: { color: string; dash?: string } } = {
  floor: { color: '#7f7f7f', dash: '6 4' },
  sluice: { color: '#1a9850' },
  nft: { color: '#2c7bb6' },
  legacy: { color: '#fdae61' },
  iptnft: { color: '#d7191c' },
};

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: number) => (Math.round(x * 10) / 10).toString();

/** A round upper bound for the axis: 1, 2 or 5 times a power of ten, at or above x. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= x)!;
}

/** Each dataplane's points in order of services; the floor, which has no services, as a level line across. */
function lines(good: readonly LatencyRow[], xMax: number): [Dataplane, LatencyRow[]][] {
  const dataplanes = [...new Set(good.map((r) => r.dataplane))];
  return dataplanes.map((dp) => [dp, dp === 'floor'
    ? [0, xMax].map((n) => ({ ...good.find((r) => r.dataplane === 'floor')!, services: n }))
    : good.filter((r) => r.dataplane === dp).sort((a, b) => a.services - b.services)]);
}

function panel(id: string, box: { left: number; right: number }, title: string, yMax: number, yStep: number, sizes: number[],
  series: [Dataplane, LatencyRow[]][]): string[] {
  const xMax = Math.max(1, ...sizes);
  const x = (n: number) => box.left + ((box.right - box.left) * n) / xMax;
  const y = (us: number) => BOTTOM - ((BOTTOM - TOP) * us) / yMax;
  const out = [`<text x="${box.left}" y="${TOP - 10}" font-weight="bold">${esc(title)}</text>`,
    `<clipPath id="${id}"><rect x="${box.left}" y="${TOP}" width="${box.right - box.left}" height="${BOTTOM - TOP}"/></clipPath>`];
  for (let v = 0; v <= yMax; v += yStep) {
    out.push(`<line x1="${box.left}" x2="${box.right}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#e5e5e5"/>`,
      `<text x="${box.left - 6}" y="${num(y(v) + 4)}" text-anchor="end">${num(v)}</text>`);
  }
  sizes.forEach((n, i) => {
    const close = i > 0 && x(n) - x(sizes[i - 1]) < 36; // keep neighbouring labels apart
    out.push(`<line x1="${num(x(n))}" x2="${num(x(n))}" y1="${BOTTOM}" y2="${BOTTOM + 4}" stroke="#333333"/>`,
      `<text x="${num(x(n))}" y="${BOTTOM + (close ? 30 : 18)}" text-anchor="middle">${n.toLocaleString('en-US')}</text>`);
  });
  out.push(`<line x1="${box.left}" x2="${box.right}" y1="${BOTTOM}" y2="${BOTTOM}" stroke="#333333"/>`,
    `<line x1="${box.left}" x2="${box.left}" y1="${TOP}" y2="${BOTTOM}" stroke="#333333"/>`,
    `<text x="${(box.left + box.right) / 2}" y="${BOTTOM + 46}" text-anchor="middle">services configured (probe: the last one added)</text>`,
    `<text transform="translate(${box.left - 48} ${(TOP + BOTTOM) / 2}) rotate(-90)" text-anchor="middle">TCP connect p50 (µs)</text>`,
    `<g clip-path="url(#${id})">`);
  for (const [dp, pts] of series) {
    const { color, dash } = STYLE[dp];
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${pts.map((p) => `${num(x(p.services))},${num(y(p.p50))}`).join(' ')}"/>`);
    for (const p of dp === 'floor' ? pts.slice(1) : pts) {
      out.push(`<line x1="${num(x(p.services))}" x2="${num(x(p.services))}" y1="${num(y(p.p50Min))}" y2="${num(y(p.p50Max))}" stroke="${color}" stroke-width="1.2"/>`,
        `<circle cx="${num(x(p.services))}" cy="${num(y(p.p50))}" r="3.5" fill="${color}"><title>${esc(`${LABELS[dp]}${dp === 'floor' ? '' : `, ${p.services} services`}: p50 ${num(p.p50)} µs (reps ${num(p.p50Min)}-${num(p.p50Max)}), p99 ${num(p.p99)} µs`)}</title></circle>`);
    }
  }
  out.push('</g>');
  return out;
}

export function latencyChart(rows: readonly LatencyRow[], title: string, subtitle: string): string {
  const good = rows.filter((r) => r.reps > 0 && Number.isFinite(r.p50));
  const sizes = [...new Set(good.filter((r) => r.dataplane !== 'floor').map((r) => r.services))].sort((a, b) => a - b);
  const xMax = Math.max(1, ...sizes);
  const series = lines(good, xMax);
  // the zoom: the flat dataplanes' highest point (or 1.5 x the floor, if more), up to the next 10 µs
  const flat = good.filter((r) => r.dataplane === 'floor' || r.dataplane === 'sluice' || r.dataplane === 'nft');
  const zoomMax = 10 * Math.ceil(Math.max(1, ...flat.map((r) => r.p50Max), 1.5 * (good.find((r) => r.dataplane === 'floor')?.p50 ?? 0)) / 10);
  const allMax = niceCeil(Math.max(1, ...good.map((r) => r.p50Max)));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${PANELS[0].left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${PANELS[0].left}" y="40" fill="#555555">${esc(subtitle)}</text>`,
    ...panel('all', PANELS[0], 'every dataplane', allMax, allMax / 5, sizes, series),
    ...panel('zoom', PANELS[1], `zoom: 0 to ${zoomMax} µs`, zoomMax, 10, sizes, series),
  ];
  series.forEach(([dp, pts], k) => {
    const { color, dash } = STYLE[dp];
    const lx = PANELS[0].left + (k % 3) * 280, ly = BOTTOM + 76 + Math.floor(k / 3) * 20;
    out.push(`<line x1="${lx}" x2="${lx + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      `<text x="${lx + 34}" y="${ly}">${esc(LABELS[dp])}: ${num(pts.at(-1)!.p50)} µs</text>`);
  });
  out.push(`<text x="${PANELS[0].left}" y="${H - 10}" fill="#555555">legend: p50 at ${xMax.toLocaleString('en-US')} services; bars: the reps' range</text>`);
  out.push('</svg>', '');
  return out.join('\n');
}
