// The policy datapath benchmark's chart, a standalone SVG written by hand:
// connect p50 to a server pod for the floor, sluice without policy and
// sluice with the server selected by 10,000 rules (bars, the reps' range as
// whiskers), and the check's own cost against the number of rules (log
// scale), allowed and denied, with the goals as dashed lines. Pure.
const W = 900, H = 470, TOP = 80, BOTTOM = 380;
const LEFT = { left: 70, right: 400 }, RIGHT = { left: 500, right: 870 };
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const num = (x: number) => (Math.round(x * 10) / 10).toString();
const COLORS = ['#7f7f7f', '#1a9850', '#2c7bb6'];

export interface Bar { label: string; p50: number; min: number; max: number }
export interface CheckPoint { rules: number; allowNs: number; denyNs: number }

function axis(box: { left: number; right: number }, yMax: number, step: number, unit: string, title: string): string[] {
  const y = (v: number) => BOTTOM - ((BOTTOM - TOP) * v) / yMax;
  const out = [`<text x="${box.left}" y="${TOP - 12}" font-weight="bold">${esc(title)}</text>`];
  for (let v = 0; v <= yMax + 1e-9; v += step) {
    out.push(`<line x1="${box.left}" x2="${box.right}" y1="${num(y(v))}" y2="${num(y(v))}" stroke="#e5e5e5"/>`,
      `<text x="${box.left - 6}" y="${num(y(v) + 4)}" text-anchor="end">${num(v)}</text>`);
  }
  out.push(`<line x1="${box.left}" x2="${box.left}" y1="${TOP}" y2="${BOTTOM}" stroke="#333333"/>`,
    `<line x1="${box.left}" x2="${box.right}" y1="${BOTTOM}" y2="${BOTTOM}" stroke="#333333"/>`,
    `<text transform="translate(${box.left - 48} ${(TOP + BOTTOM) / 2}) rotate(-90)" text-anchor="middle">${esc(unit)}</text>`);
  return out;
}

const ceilTo = (x: number, step: number) => Math.max(step, Math.ceil(x / step) * step);

export function policyChart(bars: readonly Bar[], check: readonly CheckPoint[], subtitle: string): string {
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${LEFT.left}" y="24" font-size="15" font-weight="bold">NetworkPolicy in the datapath: first-packet cost</text>`,
    `<text x="${LEFT.left}" y="42" fill="#555555">${esc(subtitle)}</text>`];
  // left: connect p50 bars
  const yMaxL = ceilTo(Math.max(1, ...bars.map((b) => b.max)) * 1.1, 10);
  const yL = (v: number) => BOTTOM - ((BOTTOM - TOP) * v) / yMaxL;
  out.push(...axis(LEFT, yMaxL, yMaxL / 5, 'TCP connect p50 (µs)', 'connect to a server pod (median of reps)'));
  const slot = (LEFT.right - LEFT.left) / Math.max(1, bars.length);
  bars.forEach((b, i) => {
    const x = LEFT.left + slot * i + slot * 0.2, w = slot * 0.6, cx = x + w / 2;
    out.push(`<rect x="${num(x)}" y="${num(yL(b.p50))}" width="${num(w)}" height="${num(BOTTOM - yL(b.p50))}" fill="${COLORS[i % COLORS.length]}"/>`,
      `<line x1="${num(cx)}" x2="${num(cx)}" y1="${num(yL(b.min))}" y2="${num(yL(b.max))}" stroke="#000000" stroke-width="1.2"/>`,
      `<text x="${num(cx)}" y="${num(yL(b.p50) - 6)}" text-anchor="middle">${num(b.p50)}</text>`,
      `<text x="${num(cx)}" y="${BOTTOM + 18}" text-anchor="middle">${esc(b.label)}</text>`);
  });
  // right: the check against rules, log scale
  const pts = [...check].filter((p) => p.rules > 0).sort((a, b) => a.rules - b.rules);
  const yMaxR = ceilTo(Math.max(500, ...pts.map((p) => p.denyNs)) * 1.1, 100);
  const yR = (v: number) => BOTTOM - ((BOTTOM - TOP) * v) / yMaxR;
  const lo = Math.log10(Math.min(10, ...pts.map((p) => p.rules))), hi = Math.log10(Math.max(100_000, ...pts.map((p) => p.rules)));
  const xR = (n: number) => RIGHT.left + ((RIGHT.right - RIGHT.left) * (Math.log10(n) - lo)) / Math.max(1, hi - lo);
  out.push(...axis(RIGHT, yMaxR, yMaxR / 5, 'ns per check (BPF_PROG_TEST_RUN)', 'the check itself, against the rules on the pod'));
  for (const p of pts) out.push(`<text x="${num(xR(p.rules))}" y="${BOTTOM + 18}" text-anchor="middle">${p.rules.toLocaleString('en-US')}</text>`);
  for (const [goal, color, label] of [[200, '#1a9850', 'allow goal 200 ns'], [500, '#d7191c', 'deny goal 500 ns']] as const) {
    out.push(`<line x1="${RIGHT.left}" x2="${RIGHT.right}" y1="${num(yR(goal))}" y2="${num(yR(goal))}" stroke="${color}" stroke-dasharray="5 4"/>`,
      `<text x="${RIGHT.right}" y="${num(yR(goal) - 4)}" text-anchor="end" fill="${color}">${label}</text>`);
  }
  for (const [key, color, label] of [['allowNs', '#1a9850', 'allowed'], ['denyNs', '#d7191c', 'denied (every lookup)']] as const) {
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${pts.map((p) => `${num(xR(p.rules))},${num(yR(p[key]))}`).join(' ')}"/>`);
    for (const p of pts) out.push(`<circle cx="${num(xR(p.rules))}" cy="${num(yR(p[key]))}" r="3.5" fill="${color}"><title>${p.rules} rules: ${label} ${p[key]} ns</title></circle>`);
  }
  out.push(`<text x="${RIGHT.left}" y="${BOTTOM + 40}" fill="#1a9850">allowed</text>`, `<text x="${RIGHT.left + 80}" y="${BOTTOM + 40}" fill="#d7191c">denied, every lookup made</text>`,
    `<text x="${(RIGHT.left + RIGHT.right) / 2}" y="${BOTTOM + 60}" text-anchor="middle">rules selecting the pod (log scale)</text>`,
    '</svg>', '');
  return out.join('\n');
}
