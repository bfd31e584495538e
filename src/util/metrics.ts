// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the
// text exposition format at /metrics of every long-running component.

type Labels = Readonly<Record<string, string>>;

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeLabelValue(v: string): string {
  return NEEDS_ESCAPE.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

/** The series' label part, keys sorted so that the same labels in any order are one series. */
function labelKey(labels: Labels): string {
  const keys = Object.keys(labels);
  // Callers nearly always pass their labels in one fixed order: sort only when it is not sorted.
  for (let i = 1; i < keys.length; i++)
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  let out = '';
  for (const k of keys) out += `${out ? ',' : ''}${k}="${escapeLabelValue(String(labels[k]))}"`;
  return out;
}

/**
 * One metric's current samples, plain data: what a registry in another thread sends so that one
 * /metrics page can show both (see MetricsRegistry.render).
 */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** [series (name, suffix and labels as rendered), value]. */
  readonly samples: readonly (readonly [string, number])[];
}

function series(name: string, labels: string): string {
  return labels ? `${name}{${labels}}` : name;
}

interface Metric {
  readonly name: string;
  family(): MetricFamily;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  family(): MetricFamily {
    const samples = [...this.values].map(([k, v]) => [series(this.name, k), v] as const);
    return { name: this.name, help: this.help, type: 'counter', samples };
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: () => number,
  ) {}
  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(labels), value);
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  dec(labels: Labels = {}, by = 1): void {
    this.inc(labels, -by);
  }
  family(): MetricFamily {
    const samples: (readonly [string, number])[] = this.collect ? [[this.name, this.collect()]] : [];
    for (const [k, v] of this.values) samples.push([series(this.name, k), v]);
    return { name: this.name, help: this.help, type: 'gauge', samples };
  }
}

export const DEFAULT_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[] = DEFAULT_BUCKETS,
  ) {}
  observe(seconds: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++)
      if (seconds <= (this.buckets[i] ?? Infinity)) s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }
  family(): MetricFamily {
    const samples: (readonly [string, number])[] = [];
    for (const [k, s] of this.series) {
      const sep = k ? `${k},` : '';
      this.buckets.forEach((b, i) => samples.push([`${this.name}_bucket{${sep}le="${b}"}`, s.counts[i]!]));
      samples.push([`${this.name}_bucket{${sep}le="+Inf"}`, s.count]);
      samples.push([series(`${this.name}_sum`, k), s.sum]);
      samples.push([series(`${this.name}_count`, k), s.count]);
    }
    return { name: this.name, help: this.help, type: 'histogram', samples };
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private register<M extends Metric>(m: M): M {
    const existing = this.metrics.get(m.name);
    if (existing) return existing as M;
    this.metrics.set(m.name, m);
    return m;
  }
  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }
  gauge(name: string, help: string, collect?: () => number): Gauge {
    return this.register(new Gauge(name, help, collect));
  }
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.register(new Histogram(name, help, buckets));
  }
  families(): MetricFamily[] {
    return [...this.metrics.values()].map((m) => m.family());
  }
  /**
   * The text exposition of this registry's metrics and of `others` (another thread's families).
   * A metric both have is one family; a series both have is summed, as one process-wide counter would be.
   */
  render(others: readonly MetricFamily[] = []): string {
    const merged = new Map<string, { help: string; type: string; samples: Map<string, number> }>();
    for (const f of [...this.families(), ...others]) {
      let m = merged.get(f.name);
      if (!m) merged.set(f.name, (m = { help: f.help, type: f.type, samples: new Map() }));
      for (const [s, v] of f.samples) m.samples.set(s, (m.samples.get(s) ?? 0) + v);
    }
    const lines: string[] = [];
    for (const [name, m] of merged) {
      lines.push(`# HELP ${name} ${m.help}`, `# TYPE ${name} ${m.type}`);
      for (const [s, v] of m.samples) lines.push(`${s} ${v}`);
    }
    return lines.join('\n') + '\n';
  }
}

/** The process-wide registry; components register their metrics here. */
export const metrics = new MetricsRegistry();
