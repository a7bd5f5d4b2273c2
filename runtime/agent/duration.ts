// Durations as kube-proxy's flags take them (Go's time.ParseDuration): a
// sequence of decimal numbers, each with a unit, "1m30s", "1.5s", "200ms";
// units ns, us (or µs), ms, s, m, h. A bare "0" is zero. Signs are refused:
// every duration the agent takes is an interval, never negative.

const UNIT_MS: { readonly [unit: string]: number } = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds; throws an Error naming the text and what is wrong with it. */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  const bad = (why: string) => new Error(`invalid duration "${text}": ${why} (examples: 200ms, 1s, 1m30s)`);
  if (text === '') throw bad('empty');
  if (/^[+-]/.test(text)) throw bad('a sign is not allowed');
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const at = PART.lastIndex;
    const m = PART.exec(text);
    if (!m) throw bad(/^\d*\.?\d*$/.test(text.slice(at)) ? `missing unit after "${text.slice(at)}"` : `unexpected "${text.slice(at)}"`);
    ms += Number(m[1]) * UNIT_MS[m[2]];
  }
  if (!Number.isFinite(ms)) throw bad('too large');
  return ms;
}

