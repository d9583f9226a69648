/**
 * A small Prometheus text-format registry (exposition format 0.0.4): counters with labels, gauges
 * read through a callback at scrape time, and histograms. Metric names are fixed (README "HTTP API"
 * lists them; docs/architecture.md decision 11) so dashboards and alerts outlive refactors; this file
 * is the one place they are spelled.
 */
export const METRIC = {
  messagesReceived: 'heatwatch_messages_received_total',
  readingsAccepted: 'heatwatch_readings_accepted_total',
  readingsRejected: 'heatwatch_readings_rejected_total',
  readingsStored: 'heatwatch_readings_stored_total',
  spoolDepth: 'heatwatch_spool_depth',
  storeWriteSeconds: 'heatwatch_store_write_seconds',
  sensors: 'heatwatch_sensors',
  tickets: 'heatwatch_tickets',
} as const;

type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

interface Metric {
  readonly name: string;
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels | undefined; value: number }>();

  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}

  inc(labels?: Labels, by = 1): void {
    const key = labelText(labels);
    const cur = this.values.get(key);
    if (cur) cur.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels?: Labels): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, v] of this.values) lines.push(`${this.name}${key} ${fmt(v.value)}`);
    return lines.join('\n');
  }
}

export type GaugeSample = { labels?: Labels; value: number };

/** A gauge whose value is read at scrape time (depth of a queue, sensors online…). */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly collect: () => number | GaugeSample[],
  ) {}

  samples(): GaugeSample[] {
    const v = this.collect();
    return typeof v === 'number' ? [{ value: v }] : v;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const s of this.samples()) lines.push(`${this.name}${labelText(s.labels)} ${fmt(s.value)}`);
    return lines.join('\n');
  }
}

export class Histogram implements Metric {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
  ) {
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++)
      if (value <= (this.buckets[i] as number)) this.counts[i] = (this.counts[i] ?? 0) + 1;
  }

  get observations(): number {
    return this.count;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((le, i) => {
      lines.push(`${this.name}_bucket${labelText(undefined, ['le', fmt(le)])} ${this.counts[i]}`);
    });
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`);
    lines.push(`${this.name}_sum ${fmt(this.sum)}`);
    lines.push(`${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

/** Store write latencies span a sub-millisecond SQLite commit to a timed-out InfluxDB request. */
export const STORE_WRITE_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  counter(name: string, help: string): Counter {
    return this.add(name, () => new Counter(name, help));
  }

  gauge(name: string, help: string, collect: () => number | GaugeSample[]): Gauge {
    return this.add(name, () => new Gauge(name, help, collect));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(name, () => new Histogram(name, help, buckets));
  }

  /** Removes a metric (a module that stops takes its gauges with it). */
  remove(name: string): void {
    this.metrics.delete(name);
  }

  /** The Prometheus text exposition of every metric; a failing gauge callback is left out, not fatal. */
  render(): string {
    const parts: string[] = [];
    for (const m of this.metrics.values()) {
      try {
        parts.push(m.render());
      } catch {
        // A gauge whose source is closed (shutdown race) must not break the whole scrape.
      }
    }
    return `${parts.join('\n')}\n`;
  }

  private add<M extends Metric>(name: string, make: () => M): M {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    const existing = this.metrics.get(name);
    // Same name twice returns the first: modules restarted in-process keep their series.
    if (existing) return existing as M;
    const m = make();
    this.metrics.set(name, m);
    return m;
  }
}
