// Just enough of a Prometheus client for the agent: counters, gauges and
// histograms with labels, rendered in the text exposition format (0.0.4).
// Series are rendered in the order they were first touched; collectors run
// at scrape time, for values that are cheaper to read than to keep current.

export type Labels = { readonly [name: string]: string };
type Kind = 'counter' | 'gauge' | 'histogram';

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};
const num = (v: number) => (v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : Number.isNaN(v) ? 'NaN' : String(v));
const seriesKey = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));

abstract class Family<S> {
  readonly name: string;
  readonly help: string;
  abstract readonly kind: Kind;
  protected readonly series = new Map<string, { labels: Labels; value: S }>();

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  protected at(labels: Labels, fresh: () => S): S {
    const key = seriesKey(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, value: fresh() }));
    return s.value;
  }

  /** Drops every series (a gauge whose label set changes wholesale at each scrape). */
  reset(): void {
    this.series.clear();
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} ${this.kind}`];
    for (const { labels, value } of this.series.values()) lines.push(...this.lines(labels, value));
    return lines.join('\n') + '\n';
  }

  protected abstract lines(labels: Labels, value: S): string[];
}

export class Counter extends Family<{ v: number }> {
  readonly kind = 'counter';
  inc(labels: Labels = {}, by = 1): void {
    this.at(labels, () => ({ v: 0 })).v += by;
  }
  /** For counters kept elsewhere (kubeStats, process CPU): copied in at scrape time. */
  set(labels: Labels, total: number): void {
    this.at(labels, () => ({ v: 0 })).v = total;
  }
  get(labels: Labels = {}): number {
    return this.series.get(seriesKey(labels))?.value.v ?? 0;
  }
  protected lines(labels: Labels, s: { v: number }): string[] {
    return [`${this.name}${labelText(labels)} ${num(s.v)}`];
  }
}

export class Gauge extends Family<{ v: number }> {
  readonly kind = 'gauge';
  set(labels: Labels, value: number): void {
    this.at(labels, () => ({ v: 0 })).v = value;
  }
  protected lines(labels: Labels, s: { v: number }): string[] {
    return [`${this.name}${labelText(labels)} ${num(s.v)}`];
  }
}

interface HistogramState { counts: number[]; sum: number; count: number }

export class Histogram extends Family<HistogramState> {
  readonly kind = 'histogram';
  readonly buckets: readonly number[];
  constructor(name: string, help: string, buckets: readonly number[]) {
    super(name, help);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(value: number, labels: Labels = {}): void {
    const s = this.at(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  protected lines(labels: Labels, s: HistogramState): string[] {
    let cumulative = 0;
    const out = this.buckets.map((b, i) => `${this.name}_bucket${labelText({ ...labels, le: num(b) })} ${(cumulative += s.counts[i])}`);
    out.push(`${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${s.count}`);
    out.push(`${this.name}_sum${labelText(labels)} ${num(s.sum)}`, `${this.name}_count${labelText(labels)} ${s.count}`);
    return out;
  }
}

export class Registry {
  private readonly families: { name: string; render(): string }[] = [];
  private readonly collectors: (() => void)[] = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }
  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }
  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }
  /** Runs before each render. */
  collect(fn: () => void): void {
    this.collectors.push(fn);
  }
  /** The whole exposition, collectors run first. */
  render(): string {
    for (const c of this.collectors) c();
    return this.families.map((f) => f.render()).join('');
  }
  private add<F extends { name: string; render(): string }>(f: F): F {
    if (this.families.some((x) => x.name === f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.push(f);
    return f;
  }
}

/** The content type of render()'s output. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
