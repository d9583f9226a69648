import { describe, expect, it } from 'vitest';
import { METRIC, MetricsRegistry } from '../../src/core/metrics.ts';

describe('Prometheus text registry', () => {
  it('renders counters with labels, callback gauges and cumulative histograms in exposition format', async () => {
    const m = new MetricsRegistry();
    const rejected = m.counter(METRIC.readingsRejected, 'Refused.');
    rejected.inc({ reason: 'not_json' });
    rejected.inc({ reason: 'not_json' });
    rejected.inc({ reason: 'weird "quote"\n' });
    let depth = 3;
    m.gauge(METRIC.spoolDepth, 'Depth.', () => depth);
    m.gauge(METRIC.sensors, 'Sensors.', () => [
      { labels: { state: 'online' }, value: 5 },
      { labels: { state: 'offline' }, value: 1 },
    ]);
    const h = m.histogram(METRIC.storeWriteSeconds, 'Latency.', [0.01, 0.1]);
    h.observe(0.005);
    h.observe(0.05);
    h.observe(2);
    depth = 7;
    const text = await m.exposition();
    expect(m.render()).toContain('heatwatch_spool_depth 7');
    expect(h.observations).toBe(3);
    expect(text).toContain('# TYPE heatwatch_readings_rejected_total counter');
    expect(text).toContain('heatwatch_readings_rejected_total{reason="not_json"} 2');
    expect(text).toContain('heatwatch_readings_rejected_total{reason="weird \\"quote\\"\\n"} 1');
    expect(text).toContain('heatwatch_spool_depth 7');
    expect(text).toContain('heatwatch_sensors{state="offline"} 1');
    expect(text).toContain('heatwatch_store_write_seconds_bucket{le="0.01"} 1');
    expect(text).toContain('heatwatch_store_write_seconds_bucket{le="0.1"} 2');
    expect(text).toContain('heatwatch_store_write_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain('heatwatch_store_write_seconds_count 3');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('the service registry adds process and Node.js metrics; labelled histograms keep their labels', async () => {
    const m = new MetricsRegistry({ defaults: true });
    const h = m.histogram('heatwatch_http_request_seconds', 'HTTP.', [0.01, 1], ['route', 'status']);
    h.observe(0.002, { route: '/api/buildings/:id', status: '200' });
    const text = await m.exposition();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds',
    ])
      expect(text, name).toContain(`# TYPE ${name}`);
    expect(text).toContain(
      'heatwatch_http_request_seconds_bucket{le="0.01",route="/api/buildings/:id",status="200"} 1',
    );
  });

  it('keeps the first metric of a name and survives a failing gauge', () => {
    const m = new MetricsRegistry();
    const a = m.counter('x_total', 'x');
    expect(m.counter('x_total', 'x')).toBe(a);
    m.gauge('broken', 'b', () => {
      throw new Error('closed');
    });
    a.inc();
    expect(m.render()).toContain('x_total 1');
    expect(() => m.counter('bad name', 'b')).toThrow();
  });

  it('a failing gauge leaves the prom-client scrape whole', async () => {
    const m = new MetricsRegistry();
    m.counter('y_total', 'y').inc();
    m.gauge('broken', 'b', () => {
      throw new Error('closed');
    });
    const text = await m.exposition();
    expect(text).toContain('y_total 1');
    expect(text).not.toMatch(/^broken /m);
  });
});
