import * as prom from 'prom-client';

/**
 * heatwatch's metrics on prom-client: its registry writes the Prometheus exposition (`exposition()`,
 * served at /metrics), adds the process and Node.js metrics operators page on (event-loop lag, heap,
 * GC, CPU, handles) and keeps the histograms. Metric names are fixed (README "HTTP API" lists them;
 * docs/architecture.md decision 11) so dashboards and alerts outlive refactors; this file is the one
 * place the shared ones are spelled.
 *
 * Counters and callback gauges keep their own storage: an increment on the ingest hot path is one
 * Map update, and `render()` and `Counter.get()` stay synchronous for the code and tests that read
 * them. prom-client reads them at scrape time through its metric interface (`get()`).
 */
export const METRIC = {
  messagesReceived: 'heatwatch_messages_received_total',
  readingsAccepted: 'heatwatch_readings_accepted_total',
  readingsRejected: 'heatwatch_readings_rejected_total',
  readingsStored: 'heatwatch_readings_stored_total',
  spoolDepth: 'heatwatch_spool_depth',
  storeWriteSeconds: 'heatwatch_store_write_seconds',
  storeUp: 'heatwatch_store_up',
  journalAppendSeconds: 'heatwatch_journal_append_seconds',
  rulesTickSeconds: 'heatwatch_rules_tick_seconds',
  httpRequestSeconds: 'heatwatch_http_request_seconds',
  liveClients: 'heatwatch_live_clients',
  outboxDepth: 'heatwatch_setpoint_outbox_depth',
  outboxOldestAgeSeconds: 'heatwatch_setpoint_outbox_oldest_age_seconds',
  setpointsUnconfirmed: 'heatwatch_setpoints_unconfirmed',
  sensors: 'heatwatch_sensors',
  tickets: 'heatwatch_tickets',
} as const;

type Labels = Record<string, string>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels | undefined): string {
  const pairs = Object.entries(labels ?? {});
  if (pairs.length === 0) return '';
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

interface Sample {
  labels?: Labels;
  value: number;
}

/** A counter or gauge with its own storage; prom-client formats it through `promView()`. */
abstract class Bridged {
  abstract readonly type: 'counter' | 'gauge';
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  abstract samples(): Sample[];

  /** This metric in the text format, synchronously (`MetricsRegistry.render()`). */
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const s of this.samples()) lines.push(`${this.name}${labelText(s.labels)} ${fmt(s.value)}`);
    return lines.join('\n');
  }
}

/**
 * What prom-client's Registry asks of a metric it formats (its own metrics have this shape). A
 * gauge whose source has closed answers no samples rather than failing the whole scrape.
 */
const promView = (m: Bridged) => ({
  name: m.name,
  help: m.help,
  type: m.type,
  aggregator: 'sum',
  get: async () => {
    let values: Sample[] = [];
    try {
      values = m.samples().map((s) => ({ labels: s.labels ?? {}, value: s.value }));
    } catch {
      // shutdown race: leave the series out
    }
    return { name: m.name, help: m.help, type: m.type, aggregator: 'sum', values };
  },
});

export class Counter extends Bridged {
  readonly type = 'counter';
  private readonly values = new Map<string, Sample>();

  inc(labels?: Labels, by = 1): void {
    const key = labels ? labelText(labels) : '';
    const cur = this.values.get(key);
    if (cur) cur.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels?: Labels): number {
    return this.values.get(labels ? labelText(labels) : '')?.value ?? 0;
  }

  samples(): Sample[] {
    return [...this.values.values()];
  }
}

export type GaugeSample = { labels?: Labels; value: number };

/** A gauge whose value is read at scrape time (depth of a queue, sensors online…). */
export class Gauge extends Bridged {
  readonly type = 'gauge';
  constructor(
    name: string,
    help: string,
    private readonly collect: () => number | GaugeSample[],
  ) {
    super(name, help);
  }

  samples(): GaugeSample[] {
    const v = this.collect();
    return typeof v === 'number' ? [{ value: v }] : v;
  }
}

/**
 * A histogram kept by prom-client; `observe` is its observe. Made on its own it belongs to no
 * registry; `MetricsRegistry.histogram()` makes it in the registry /metrics serves.
 */
export class Histogram {
  private count = 0;
  readonly prom: prom.Histogram<string>;

  constructor(
    readonly name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
    registry?: prom.Registry,
  ) {
    this.prom = new prom.Histogram({
      name,
      help: help || name,
      buckets: [...buckets],
      labelNames: [...labelNames],
      registers: registry ? [registry] : [],
    });
  }

  observe(value: number, labels?: Labels): void {
    this.count++;
    if (labels) this.prom.observe(labels, value);
    else this.prom.observe(value);
  }

  /** Starts a timer; calling the result observes the seconds since. */
  startTimer(): (labels?: Labels) => void {
    const t0 = performance.now();
    return (labels) => this.observe((performance.now() - t0) / 1000, labels);
  }

  get observations(): number {
    return this.count;
  }
}

/** Store write latencies span a sub-millisecond SQLite commit to a timed-out InfluxDB request. */
export const STORE_WRITE_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A journal append is a buffered write, fsynced in groups: microseconds to a slow disk's tens of ms. */
export const JOURNAL_APPEND_BUCKETS_S = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25,
];
/** HTTP answers: a cached read in a millisecond to a compliance report over a year of history. */
export const HTTP_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** A rules tick: tens of ms for a district, a second and more for a city (BENCHMARKS.md). */
export const RULES_TICK_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class MetricsRegistry {
  /** prom-client's registry: the one /metrics serves. */
  readonly prom = new prom.Registry();
  private readonly bridged = new Map<string, Bridged>();
  private readonly histograms = new Map<string, Histogram>();

  /**
   * `defaults`: also collect prom-client's process and Node.js metrics (the service does; tests
   * and benches that build many registries need not).
   */
  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults) prom.collectDefaultMetrics({ register: this.prom });
  }

  counter(name: string, help: string): Counter {
    return this.addBridged(name, () => new Counter(name, help));
  }

  gauge(name: string, help: string, collect: () => number | GaugeSample[]): Gauge {
    return this.addBridged(name, () => new Gauge(name, help, collect));
  }

  histogram(
    name: string,
    help: string,
    buckets: readonly number[],
    labelNames: readonly string[] = [],
  ): Histogram {
    const existing = this.histograms.get(name);
    // Same name twice returns the first: modules restarted in-process keep their series.
    if (existing) return existing;
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    const h = new Histogram(name, help, buckets, labelNames, this.prom);
    this.histograms.set(name, h);
    return h;
  }

  /** Removes a metric (a module that stops takes its gauges with it). */
  remove(name: string): void {
    this.bridged.delete(name);
    this.histograms.delete(name);
    this.prom.removeSingleMetric(name);
  }

  /**
   * heatwatch's counters and gauges in the text format, synchronously (tests and benches poll it);
   * a failing gauge callback is left out, not fatal. /metrics serves `exposition()`.
   */
  render(): string {
    const parts: string[] = [];
    for (const m of this.bridged.values()) {
      try {
        parts.push(m.render());
      } catch {
        // A gauge whose source is closed (shutdown race) must not break the whole scrape.
      }
    }
    return `${parts.join('\n')}\n`;
  }

  /** The full Prometheus exposition (prom-client): every metric, histograms and defaults included. */
  exposition(): Promise<string> {
    return this.prom.metrics();
  }

  readonly contentType = prom.Registry.PROMETHEUS_CONTENT_TYPE;

  private addBridged<M extends Bridged>(name: string, make: () => M): M {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    const existing = this.bridged.get(name);
    if (existing) return existing as M;
    const m = make();
    this.bridged.set(name, m);
    this.prom.registerMetric(promView(m) as unknown as prom.Metric);
    return m;
  }
}

/**
 * Times every call of `obj[method]` (sync or async) into `h`: a module that owns its loop (the rules
 * engine's tick) gets a duration histogram without knowing about metrics.
 */
export function timeEachCall<K extends string, T extends { [k in K]: (...args: never[]) => unknown }>(
  obj: T,
  method: K,
  h: Histogram,
): void {
  const original = obj[method].bind(obj) as (...args: unknown[]) => unknown;
  (obj as Record<K, unknown>)[method] = (...args: unknown[]) => {
    const done = h.startTimer();
    const out = original(...args);
    if (out instanceof Promise) return out.finally(() => done());
    done();
    return out;
  };
}

/**
 * A value from an async source (the ops database may be a server) for a gauge, which is read
 * synchronously: each read answers the value fetched at the previous one and starts a new fetch.
 * A fetch that fails keeps the last value.
 */
export function lastFetched<T>(fetch: () => Promise<T>, initial: T): () => T {
  let last = initial;
  let busy = false;
  return () => {
    if (!busy) {
      busy = true;
      fetch()
        .then((v) => {
          last = v;
        })
        .catch(() => undefined)
        .finally(() => {
          busy = false;
        });
    }
    return last;
  };
}

/** The setpoint outbox as three gauges: commands waiting for the broker, the oldest one's age, unconfirmed. */
export function outboxMetrics(
  m: MetricsRegistry,
  outbox: {
    pending(): Promise<Array<{ createdTs: number }>>;
    unconfirmed(): Promise<Array<{ confirm: string }>>;
  },
  clock: { now(): number },
): void {
  const pending = lastFetched(() => outbox.pending(), []);
  const unconfirmed = lastFetched(() => outbox.unconfirmed(), []);
  m.gauge(
    METRIC.outboxDepth,
    'Setpoint commands not yet acknowledged by the broker.',
    () => pending().length,
  );
  m.gauge(
    METRIC.outboxOldestAgeSeconds,
    'Age of the oldest command waiting in the outbox (heating clock).',
    () => {
      const oldest = pending()[0];
      return oldest ? Math.max(0, (clock.now() - oldest.createdTs) / 1000) : 0;
    },
  );
  m.gauge(
    METRIC.setpointsUnconfirmed,
    'Published setpoint commands by confirmation state (awaiting, not-confirmed).',
    () => {
      const by: Record<string, number> = { awaiting: 0, 'not-confirmed': 0 };
      for (const c of unconfirmed()) by[c.confirm] = (by[c.confirm] ?? 0) + 1;
      return Object.entries(by).map(([state, value]) => ({ labels: { state }, value }));
    },
  );
}
