// Grouped bar charts as standalone SVG, written by hand like chart.ts: panels
// side by side (two to a row), each a set of groups (an MTU, a percentile)
// of bars (one per dataplane, same colour in every panel), each bar with its
// value above it and a whisker from the lowest to the highest rep. Pure.
import { niceCeil } from './chart.ts';

export interface Bar { key: string; value: number; min?: number; max?: number }
export interface BarGroup { label: string; bars: Bar[] }
export interface Panel { title: string; axis: string; groups: BarGroup[]; digits?: number }
export interface Series { key: string; label: string; color: string }

const PANEL_W = 420, PANEL_H = 260, GAP = 60, LEFT = 70, TOP = 70, ROW_GAP = 80;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: number) => (Math.round(x * 10) / 10).toString();

function panel(p: Panel, x0: number, y0: number, series: readonly Series[]): string[] {
  const bottom = y0 + PANEL_H;
  const finite = p.groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.max ?? b.value])).filter(Number.isFinite);
  const yMax = niceCeil(Math.max(0, ...finite) * 1.1);
  const y = (v: number) => bottom - (PANEL_H * v) / yMax;
  const out = [`<text x="${x0}" y="${y0 - 12}" font-weight="bold">${esc(p.title)}</text>`];
  for (let k = 0; k <= 5; k++) {
    const v = (yMax * k) / 5;
    out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#e5e5e5"/>`,
      `<text x="${x0 - 6}" y="${num(y(v) + 4)}" text-anchor="end">${+v.toPrecision(3)}</text>`);
  }
  out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${bottom}" y2="${bottom}" stroke="#333333"/>`,
    `<line x1="${x0}" x2="${x0}" y1="${y0}" y2="${bottom}" stroke="#333333"/>`,
    `<text transform="translate(${x0 - 50} ${y0 + PANEL_H / 2}) rotate(-90)" text-anchor="middle">${esc(p.axis)}</text>`);
  const groupW = PANEL_W / Math.max(1, p.groups.length);
  p.groups.forEach((g, gi) => {
    const barW = Math.min(64, (groupW - 24) / Math.max(1, series.length));
    const start = x0 + gi * groupW + (groupW - barW * series.length) / 2;
    out.push(`<text x="${num(x0 + gi * groupW + groupW / 2)}" y="${bottom + 18}" text-anchor="middle">${esc(g.label)}</text>`);
    series.forEach((s, si) => {
      const b = g.bars.find((x) => x.key === s.key);
      if (!b || !Number.isFinite(b.value)) return;
      const bx = start + si * barW;
      out.push(`<rect x="${num(bx + 2)}" y="${num(y(b.value))}" width="${num(barW - 4)}" height="${num(bottom - y(b.value))}" fill="${s.color}">` +
        `<title>${esc(`${s.label}, ${g.label}: ${b.value.toFixed(p.digits ?? 2)}${b.min !== undefined ? ` (reps ${b.min.toFixed(p.digits ?? 2)}-${b.max!.toFixed(p.digits ?? 2)})` : ''}`)}</title></rect>`);
      if (b.min !== undefined && b.max !== undefined) {
        const cx = num(bx + barW / 2);
        out.push(`<line x1="${cx}" x2="${cx}" y1="${num(y(b.min))}" y2="${num(y(b.max))}" stroke="#333333" stroke-width="1.2"/>`);
      }
      out.push(`<text x="${num(bx + barW / 2)}" y="${num(Math.min(y(b.value), y(b.max ?? b.value)) - 4)}" text-anchor="middle" font-size="10">${b.value.toFixed(p.digits ?? 2)}</text>`);
    });
  });
  return out;
}

export function barChart(title: string, subtitle: string, panels: readonly Panel[], series: readonly Series[], note: string): string {
  const rows = Math.ceil(panels.length / 2);
  const W = LEFT + 2 * PANEL_W + GAP + 30;
  const legendY = TOP + rows * (PANEL_H + ROW_GAP);
  const H = legendY + 20 * series.length + 30;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${LEFT}" y="40" fill="#555555">${esc(subtitle)}</text>`,
  ];
  panels.forEach((p, i) => out.push(...panel(p, LEFT + (i % 2) * (PANEL_W + GAP), TOP + Math.floor(i / 2) * (PANEL_H + ROW_GAP), series)));
  series.forEach((s, k) => {
    const lx = LEFT, ly = legendY + k * 20;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="14" height="12" fill="${s.color}"/>`, `<text x="${lx + 20}" y="${ly}">${esc(s.label)}</text>`);
  });
  out.push(`<text x="${LEFT}" y="${H - 10}" fill="#555555">${esc(note)}</text>`, '</svg>', '');
  return out.join('\n');
}
