import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading, SubstationReading } from '../../src/core/readings.ts';
import { createReadingStore } from '../../src/storage/create-store.ts';
import { InfluxReadingStore, type InfluxStoreOptions } from '../../src/storage/influx-store.ts';
import { roomLine, substationLine } from '../../src/storage/line-protocol.ts';
import type { HistoryQuery } from '../../src/storage/reading-store.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-store.ts';
import { freePort, serverAvailable } from '../support/servers.ts';
import { expectSameHistory, reading, readingStoreSuite, series, T0, UNITS } from './reading-store.suite.ts';
import {
  hasInfluxd,
  hasVictoriaMetrics,
  influxAdmin,
  influxV1Write,
  type RunningServer,
  startInfluxd,
  startV2WriteRelay,
  startVictoriaMetrics,
} from './tsdb-servers.ts';

const MIN = 60_000;
const HOUR = 3_600_000;

const storeOptions = (url: string, over: Partial<InfluxStoreOptions> = {}): InfluxStoreOptions => ({
  url,
  token: 'heatwatch-test-token',
  org: 'heatwatch',
  bucket: 'heatwatch',
  timeoutMs: 5000,
  writeBatchLines: 500,
  writeBatchBytes: 256 * 1024,
  gzipThresholdBytes: 16 * 1024,
  ...over,
});

const haveInfluxd = serverAvailable('influxd (InfluxDB 1.6)', hasInfluxd(), 'apt-get install influxdb');
const haveVictoriaMetrics = serverAvailable(
  'victoria-metrics',
  hasVictoriaMetrics(),
  'apt-get install victoria-metrics',
);

describe.skipIf(!haveInfluxd)('InfluxReadingStore against InfluxDB 1.6 (InfluxQL on /query)', () => {
  let influxd: RunningServer;
  let relay: RunningServer & { seenAuth: string[] };
  let db = 0;

  beforeAll(async () => {
    influxd = await startInfluxd();
    relay = await startV2WriteRelay(influxd.url);
  });
  afterAll(async () => {
    await relay?.stop();
    await influxd?.stop();
  });

  // The whole contract through the client library's v2 write path, relayed to 1.6's /write.
  readingStoreSuite('influxdb 1.6', async () => {
    const bucket = `hw_suite_${db++}`;
    await influxAdmin(influxd.url, `CREATE DATABASE "${bucket}"`);
    const store = new InfluxReadingStore(storeOptions(relay.url, { bucket }), silentLogger());
    await store.start();
    return {
      store,
      close: async () => {
        await store.stop();
        await influxAdmin(influxd.url, `DROP DATABASE "${bucket}"`);
      },
    };
  });

  it('returns the same history as the SQLite store for the same data seeded through v1 /write', async () => {
    // Six hours of readings every 5 minutes, a partial replay, manual measurements, meter readings.
    const room: RoomReading[] = series(T0 + 17_000, 6 * HOUR, 5 * MIN);
    room.push(...room.slice(40, 90));
    room.push(reading(UNITS[0]!, T0 + 2 * HOUR, 19.5, { source: 'manual' }));
    room.push(reading(UNITS[2]!, T0 + 2 * HOUR + 17_000, 23.25, { source: 'manual' }));
    const meters: SubstationReading[] = [];
    for (let t = T0; t < T0 + 6 * HOUR; t += 10 * MIN) {
      meters.push({ substationId: 'ss1', ts: t, supplyTempC: 65 + ((t / MIN) % 7), returnTempC: 45 });
      meters.push({ substationId: 'ss2', ts: t + 3000, supplyTempC: 60, returnTempC: 41, outdoorTempC: -3 });
    }

    const bucket = 'hw_compare';
    await influxAdmin(influxd.url, `CREATE DATABASE "${bucket}"`);
    for (let i = 0; i < room.length; i += 1000)
      await influxV1Write(influxd.url, bucket, room.slice(i, i + 1000).map(roomLine));
    await influxV1Write(influxd.url, bucket, meters.map(substationLine));
    const influx = new InfluxReadingStore(storeOptions(influxd.url, { bucket }), silentLogger());
    await influx.start();

    const dir = mkdtempSync(join(tmpdir(), 'hw-compare-'));
    const sqlite = new SqliteReadingStore(
      {
        file: join(dir, 'r.db'),
        retentionDays: 3650,
        pruneIntervalMs: HOUR,
        pruneChunkRows: 1000,
        synchronous: 'NORMAL',
        busyTimeoutMs: 1000,
      },
      new ManualClock(T0),
      silentLogger(),
    );
    await sqlite.start();
    try {
      await sqlite.writeRoom(room);
      await sqlite.writeSubstation(meters);
      const scopes: Array<Partial<HistoryQuery>> = [
        ...UNITS.map((u) => ({ sensorId: u.sensorId })),
        { buildingId: 'b1' },
        { buildingId: 'b2' },
        { buildingId: 'b3' },
        { substationId: 'ss1' },
        { substationId: 'ss2' },
        ...(['top', 'ground', 'gable', 'middle'] as const).flatMap((positionClass) => [
          { buildingId: 'b1', positionClass },
          { substationId: 'ss1', positionClass },
        ]),
      ];
      let compared = 0;
      for (const everyMs of [MIN, 7 * MIN, 11 * MIN, HOUR, 24 * HOUR]) {
        for (const scope of scopes) {
          const q = {
            fromMs: T0 + 13 * MIN + 500,
            toMs: T0 + 5 * HOUR + 1,
            everyMs,
            ...scope,
          } as HistoryQuery;
          const want = await sqlite.roomHistory(q);
          expectSameHistory(await influx.roomHistory(q), want);
          compared += want.length;
        }
        for (const substationId of ['ss1', 'ss2']) {
          const q = { substationId, fromMs: T0 + 13 * MIN, toMs: T0 + 5 * HOUR, everyMs };
          const want = await sqlite.substationHistory(q);
          const got = await influx.substationHistory(q);
          expect(got.map((p) => [p.ts, p.count, p.outdoorTempC === undefined])).toEqual(
            want.map((p) => [p.ts, p.count, p.outdoorTempC === undefined]),
          );
          got.forEach((p, i) => {
            expect(p.supplyTempC).toBeCloseTo(want[i]!.supplyTempC, 9);
            expect(p.returnTempC).toBeCloseTo(want[i]!.returnTempC, 9);
            if (p.outdoorTempC !== undefined) expect(p.outdoorTempC).toBeCloseTo(want[i]!.outdoorTempC!, 9);
          });
          compared += want.length;
        }
      }
      expect(compared).toBeGreaterThan(1000);
    } finally {
      await sqlite.stop();
      await influx.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects data the server refuses as not retriable, and a missing database as retriable', async () => {
    await influxAdmin(influxd.url, 'CREATE DATABASE "hw_conflict"');
    // `seq` already holds floats in this shard; heatwatch writes it as an integer: a type conflict.
    const u = UNITS[0]!;
    await influxV1Write(influxd.url, 'hw_conflict', [
      `room,building=${u.buildingId},sensor=${u.sensorId} temp_c=20,seq=1.5 ${T0}`,
    ]);
    const store = new InfluxReadingStore(storeOptions(relay.url, { bucket: 'hw_conflict' }), silentLogger());
    await store.start();
    await expect(store.writeRoom([reading(u, T0 + 1000, 21, { seq: 7 })])).rejects.toMatchObject({
      code: 'HW_ERR_STORE_REFUSED',
      retriable: false,
      message: expect.stringMatching(/field type conflict/),
    });
    const missing = new InfluxReadingStore(storeOptions(relay.url, { bucket: 'hw_not_yet' }), silentLogger());
    await missing.start();
    await expect(missing.writeRoom([reading(u, T0, 21)])).rejects.toMatchObject({
      code: 'HW_ERR_STORE_UNAVAILABLE',
      retriable: true,
    });
    await store.stop();
    await missing.stop();
  });

  it('reads a bucket that does not exist yet as an empty history, and pings', async () => {
    const store = new InfluxReadingStore(
      storeOptions(influxd.url, { bucket: 'never_created' }),
      silentLogger(),
    );
    await store.start();
    expect(await store.roomHistory({ buildingId: 'b1', fromMs: T0, toMs: T0 + HOUR, everyMs: MIN })).toEqual(
      [],
    );
    expect(await store.ping()).toBe(true);
    await store.stop();
  });

  it('is built by the factory with the token from the secrets, sent on writes and queries', async () => {
    await influxAdmin(influxd.url, 'CREATE DATABASE "hw_factory"');
    const config = serviceSchema.parse({
      store: { kind: 'influxdb', influxdb: { url: relay.url, bucket: 'hw_factory', token: 'from-file' } },
    });
    const store = createReadingStore(
      config,
      { influxToken: 'from-env' },
      new ManualClock(T0),
      silentLogger(),
    );
    expect(store.kind).toBe('influxdb');
    await store.start();
    relay.seenAuth.length = 0;
    await store.writeRoom([reading(UNITS[0]!, T0, 20)]);
    const got = await store.roomHistory({
      sensorId: UNITS[0]!.sensorId,
      fromMs: T0,
      toMs: T0 + 1,
      everyMs: 1,
    });
    expect(got).toEqual([{ ts: T0, meanC: 20, minC: 20, maxC: 20, count: 1 }]);
    expect(relay.seenAuth).toEqual(['Token from-env', 'Token from-env']);
    await store.stop();
  });
});

interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

async function exportAll(url: string): Promise<ExportedSeries[]> {
  // Make what was just written searchable, then read every sample back as VictoriaMetrics stored it.
  await (await fetch(`${url}/internal/force_flush`)).body?.cancel();
  const res = await fetch(`${url}/api/v1/export`, {
    method: 'POST',
    body: new URLSearchParams({ 'match[]': '{__name__=~"room_.+|substation_.+"}' }),
  });
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ExportedSeries);
}

const ROOM_FIELDS = [
  ['temp_c', (r: RoomReading) => r.tempC],
  ['humidity_pct', (r: RoomReading) => r.humidityPct],
  ['battery_v', (r: RoomReading) => r.batteryV],
  ['seq', (r: RoomReading) => r.seq],
  ['floor', (r: RoomReading) => r.floor],
  ['column', (r: RoomReading) => r.column],
] as const;

const SUBSTATION_FIELDS = [
  ['supply_temp_c', (r: SubstationReading) => r.supplyTempC],
  ['return_temp_c', (r: SubstationReading) => r.returnTempC],
  ['flow_m3h', (r: SubstationReading) => r.flowM3h],
  ['heat_kw', (r: SubstationReading) => r.heatKw],
  ['valve_pct', (r: SubstationReading) => r.valvePct],
  ['outdoor_temp_c', (r: SubstationReading) => r.outdoorTempC],
  ['supply_offset_c', (r: SubstationReading) => r.supplyOffsetC],
] as const;

/** The samples docs/influx-schema.md promises for these readings, keyed `name{labels}@ts`. */
function expectedSamples(
  room: readonly RoomReading[],
  meters: readonly SubstationReading[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of room) {
    const labels = {
      building: r.buildingId,
      class_gable: String(r.classes.includes('gable')),
      class_ground: String(r.classes.includes('ground')),
      class_middle: String(r.classes.includes('middle')),
      class_top: String(r.classes.includes('top')),
      sensor: r.sensorId,
      source: r.source,
      substation: r.substationId,
    };
    for (const [field, get] of ROOM_FIELDS) {
      const v = get(r);
      if (v !== undefined) out.set(sampleKey(`room_${field}`, labels, r.ts), v);
    }
  }
  for (const m of meters) {
    for (const [field, get] of SUBSTATION_FIELDS) {
      const v = get(m);
      if (v !== undefined) out.set(sampleKey(`substation_${field}`, { substation: m.substationId }, m.ts), v);
    }
  }
  return out;
}

const sampleKey = (name: string, labels: Record<string, string>, ts: number): string =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',')}}@${ts}`;

function samplesOf(exported: ExportedSeries[]): { map: Map<string, number>; total: number } {
  const map = new Map<string, number>();
  let total = 0;
  for (const s of exported) {
    const { __name__: name, ...labels } = s.metric;
    s.timestamps.forEach((ts, i) => {
      total++;
      map.set(sampleKey(name!, labels, ts), s.values[i]!);
    });
  }
  return { map, total };
}

/** Same keys exactly; values to 1e-9 (VictoriaMetrics stores floats as scaled decimals). */
function expectSameSamples(got: Map<string, number>, want: Map<string, number>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect(got.get(k), k).toBeCloseTo(v, 9);
}

describe.skipIf(!haveVictoriaMetrics)(
  'InfluxReadingStore writes into VictoriaMetrics (/api/v2/write)',
  () => {
    let vm: RunningServer;
    beforeAll(async () => {
      vm = await startVictoriaMetrics();
    });
    afterAll(async () => {
      await vm?.stop();
    });

    it('lands every point exactly once with the documented tags and fields, also after a replay', async () => {
      const store = new InfluxReadingStore(storeOptions(vm.url), silentLogger());
      await store.start();
      // 6 units × 500 readings; every third without the optional fields, a few manual measurements.
      const room = series(T0, 500 * MIN, MIN).map((r, i) =>
        i % 3 === 0 ? { ...r, humidityPct: undefined, batteryV: undefined, seq: undefined } : r,
      );
      room.push(reading(UNITS[5]!, T0 + 30 * MIN, 22.5, { source: 'manual' }));
      const meters: SubstationReading[] = Array.from({ length: 60 }, (_, i) => ({
        substationId: i % 2 ? 'ss1' : 'ss2',
        ts: T0 + i * 5 * MIN,
        supplyTempC: 70 - i * 0.1,
        returnTempC: 48.5,
        ...(i % 4 === 0
          ? { flowM3h: 10.25, heatKw: 512, valvePct: 60, outdoorTempC: -4.5, supplyOffsetC: 1.5 }
          : {}),
      }));
      await store.writeRoom(room);
      await store.writeSubstation(meters);

      const want = expectedSamples(room, meters);
      const first = samplesOf(await exportAll(vm.url));
      expect(first.total).toBe(want.size); // nothing doubled, nothing extra
      expectSameSamples(first.map, want); // every sample under its documented name, labels, time and value

      // A spool replay writes identical series and timestamps. VictoriaMetrics keeps one sample per
      // series and millisecond here (-dedup.minScrapeInterval=1ms), as InfluxDB overwrites the point.
      await store.writeRoom(room.slice(100, 1600));
      await store.writeSubstation(meters.slice(0, 30));
      const again = samplesOf(await exportAll(vm.url));
      expect(again.total).toBe(want.size);
      expectSameSamples(again.map, want);
      await store.stop();
    });

    it('takes a large batch at a measured rate', async () => {
      const store = new InfluxReadingStore(
        storeOptions(vm.url, { writeBatchLines: 5000, writeBatchBytes: 4 << 20 }),
        silentLogger(),
      );
      await store.start();
      const room = series(T0 + 30 * 24 * HOUR, 2000 * MIN, MIN); // 12 000 readings, 6 fields each
      const started = performance.now();
      await store.writeRoom(room);
      const s = (performance.now() - started) / 1000;
      console.info(
        `influx writer → VictoriaMetrics: ${Math.round(room.length / s)} points/s (${Math.round((room.length * 6) / s)} field values/s), 5000-line requests`,
      );
      expect(room.length / s).toBeGreaterThan(1000);
      await store.stop();
    });
  },
);

describe('InfluxReadingStore when the server is not there', () => {
  it('rejects a write, a query and answers ping false when the connection is refused', async () => {
    const port = await freePort(); // nothing listens here
    const store = new InfluxReadingStore(storeOptions(`http://127.0.0.1:${port}`), silentLogger());
    await store.start();
    await expect(store.writeRoom([reading(UNITS[0]!, T0, 20)])).rejects.toMatchObject({
      code: 'HW_ERR_STORE_UNAVAILABLE',
      retriable: true,
    });
    await expect(
      store.writeSubstation([{ substationId: 'ss1', ts: T0, supplyTempC: 70, returnTempC: 50 }]),
    ).rejects.toMatchObject({ code: 'HW_ERR_STORE_UNAVAILABLE' });
    await expect(
      store.roomHistory({ buildingId: 'b1', fromMs: T0, toMs: T0 + 1, everyMs: 1 }),
    ).rejects.toMatchObject({
      code: 'HW_ERR_STORE_UNAVAILABLE',
    });
    expect(await store.ping()).toBe(false);
    await store.stop();
  });

  it('rejects within the configured timeout when the server accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const addr = silent.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const store = new InfluxReadingStore(
      storeOptions(`http://127.0.0.1:${port}`, { timeoutMs: 300 }),
      silentLogger(),
    );
    await store.start();
    try {
      const started = performance.now();
      await expect(store.writeRoom([reading(UNITS[0]!, T0, 20)])).rejects.toMatchObject({
        code: 'HW_ERR_STORE_UNAVAILABLE',
      });
      await expect(
        store.roomHistory({ buildingId: 'b1', fromMs: T0, toMs: T0 + 1, everyMs: 1 }),
      ).rejects.toMatchObject({
        code: 'HW_ERR_STORE_UNAVAILABLE',
      });
      expect(await store.ping()).toBe(false);
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      await store.stop();
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
