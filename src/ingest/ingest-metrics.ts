import {
  type Counter,
  type Histogram,
  JOURNAL_APPEND_BUCKETS_S,
  METRIC,
  type MetricsRegistry,
  STORE_WRITE_BUCKETS_S,
} from '../core/metrics.ts';
import type { Journal } from '../storage/journal.ts';

export interface IngestCounters {
  received: Counter;
  accepted: Counter;
  rejected: Counter;
  stored: Counter;
  storeFailures: Counter;
  spoolRefused: Counter;
  writeSeconds: Histogram;
  appendSeconds: Histogram;
  commits: Counter;
}

/** What the ingestion gauges read at scrape time. */
export interface IngestGaugeSources {
  journal: Journal;
  spoolOldestAgeMs: () => number;
  storeUp: () => boolean;
  sensorCounts: () => { online: number; offline: number };
}

/** Ingestion's counters, histograms and gauges on /metrics (names: README "HTTP API"). */
export function registerIngestMetrics(m: MetricsRegistry, s: IngestGaugeSources): IngestCounters {
  const c: IngestCounters = {
    received: m.counter(METRIC.messagesReceived, 'MQTT messages received by ingestion.'),
    accepted: m.counter(METRIC.readingsAccepted, 'Readings accepted (validated and journalled).'),
    rejected: m.counter(METRIC.readingsRejected, 'Messages or readings refused, by reason.'),
    stored: m.counter(METRIC.readingsStored, 'Readings confirmed by the reading store.'),
    storeFailures: m.counter(
      'heatwatch_store_write_failures_total',
      'Reading-store batch writes that failed.',
    ),
    spoolRefused: m.counter(
      'heatwatch_spool_over_budget_total',
      'Times a message was held unacknowledged because the spool was over its disk budget.',
    ),
    writeSeconds: m.histogram(
      METRIC.storeWriteSeconds,
      'Reading-store batch write latency.',
      STORE_WRITE_BUCKETS_S,
    ),
    appendSeconds: m.histogram(
      METRIC.journalAppendSeconds,
      'Journal (spool) append latency, per transaction (a group of messages, or one manual reading).',
      JOURNAL_APPEND_BUCKETS_S,
    ),
    commits: m.counter(
      'heatwatch_journal_commits_total',
      'Journal transactions; messages received per commit is the average group size.',
    ),
  };
  m.gauge(
    METRIC.spoolDepth,
    'Readings journalled but not yet confirmed by the reading store.',
    () => s.journal.pendingReadings,
  );
  m.gauge(
    'heatwatch_spool_bytes',
    'Bytes of journalled readings waiting for the store.',
    () => s.journal.stats().bytes,
  );
  m.gauge(
    'heatwatch_spool_oldest_age_seconds',
    'Age of the oldest reading waiting for the store.',
    () => s.spoolOldestAgeMs() / 1000,
  );
  m.gauge(
    METRIC.storeUp,
    'Whether the reading store takes writes (0 while readings wait in the spool).',
    () => (s.storeUp() ? 1 : 0),
  );
  m.gauge(METRIC.sensors, 'Room sensors by state.', () => {
    const n = s.sensorCounts();
    return [
      { labels: { state: 'online' }, value: n.online },
      { labels: { state: 'offline' }, value: n.offline },
    ];
  });
  return c;
}
