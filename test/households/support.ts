import { type HouseholdsConfig, householdsSchema } from '../../src/config/households-schema.ts';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import type { RegistryIndex, SensorInfo } from '../../src/core/registry.ts';
import {
  HouseholdsModule,
  type HouseholdsModuleDeps,
  householdsMigrations,
} from '../../src/households/module.ts';
import { StoredUnitHours } from '../../src/rules/compliance.ts';
import type { HistoryQuery } from '../../src/storage/reading-store.ts';
import { type SqlDb, sqliteSql } from '../../src/storage/sql.ts';
import { sqliteMigrations } from '../../src/storage/sql-migrate.ts';
import { type Db, openDb } from '../../src/storage/sqlite.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-store.ts';

export const HOUR = 3_600_000;
const RULES = rulesSchema.parse({});

interface HouseholdsOptions {
  clock: ManualClock;
  /** The outbox's wall clock; the heating clock when absent. */
  wallClock?: ManualClock;
  bus: EventBus<HeatEvents>;
  index: RegistryIndex;
  cfg?: Record<string, unknown>;
  sensorTempC?: (id: string) => number | undefined;
  webhookSecret?: string;
  fieldTask?: HouseholdsModuleDeps['fieldTask'];
  tickets?: HouseholdsModuleDeps['tickets'];
  schedule?: HouseholdsModuleDeps['schedule'];
}

/** A households module on a fresh (or given) SQLite ops database, driven by the test's ManualClock. */
export function households(o: HouseholdsOptions & { db?: Db; file?: string }) {
  const db =
    o.db ??
    openDb(o.file ?? ':memory:', { synchronous: 'FULL', migrations: sqliteMigrations(householdsMigrations) });
  return { ...householdsOn(sqliteSql(db), o), db };
}

/** The same on any ops database through the query layer (the store contract runs it on PostgreSQL). */
export function householdsOn(sql: SqlDb, o: HouseholdsOptions) {
  // Wall-clock cron stays off in tests: they call runDigest / runBulletin on the ManualClock, or
  // enable them with a `schedule` they fire themselves.
  const cfg: HouseholdsConfig = householdsSchema.parse({
    digest: { enabled: false },
    bulletin: { enabled: false },
    ...(o.cfg ?? {}),
  });
  // The bulletin's unit-hours come from a real reading store that keeps what the bus carries, as
  // ingestion's store would (in memory: nothing to clean up).
  const readings = new SqliteReadingStore(
    {
      file: ':memory:',
      retentionDays: 400,
      pruneIntervalMs: HOUR,
      pruneChunkRows: 10_000,
      synchronous: 'NORMAL',
      busyTimeoutMs: 1000,
    },
    new ManualClock(0),
    silentLogger(),
  );
  const opened = readings.start();
  o.bus.on('roomReadings', 'test-store', (r) => void opened.then(() => readings.writeRoom(r)));
  const history = {
    roomHistory: async (q: HistoryQuery) => {
      await opened;
      return readings.roomHistory(q);
    },
  };
  const mod = new HouseholdsModule({
    sql,
    clock: o.clock,
    wallClock: o.wallClock ?? o.clock,
    bus: o.bus,
    cfg: () => cfg,
    rules: () => RULES,
    index: () => o.index,
    unitHours: new StoredUnitHours(
      history,
      () => o.index,
      () => RULES,
    ),
    sensorTempC: o.sensorTempC,
    webhookSecret: o.webhookSecret,
    fieldTask: o.fieldTask,
    tickets: o.tickets,
    schedule: o.schedule,
    timeZone: 'UTC',
    log: silentLogger(),
  });
  return { mod, cfg, svc: mod.service, store: mod.store };
}

/** A sensor reading of a registry sensor, as ingestion would enrich it. */
export const sensorReading = (i: SensorInfo, tempC: number, ts: number): RoomReading => ({
  sensorId: i.sensor.id,
  ts,
  tempC,
  buildingId: i.building.id,
  substationId: i.substation.id,
  floor: i.sensor.floor,
  column: i.sensor.column,
  classes: i.classes,
  source: 'sensor',
});

/**
 * A cron the test fires by hand, shared by several instances: `fire` runs every live job of `expr`
 * as scheduled for `at`, all at once (as each instance's node-cron would at that minute), and
 * resolves when they have all finished.
 */
export function manualCron() {
  const jobs: Array<{ expr: string; job: (at: Date) => Promise<void>; live: boolean }> = [];
  const schedule: NonNullable<HouseholdsModuleDeps['schedule']> = (expr, job) => {
    const j = { expr, job, live: true };
    jobs.push(j);
    return {
      stop: () => {
        j.live = false;
      },
    };
  };
  const fire = async (expr: string, at: number): Promise<number> => {
    const live = jobs.filter((j) => j.expr === expr && j.live);
    await Promise.all(live.map((j) => j.job(new Date(at))));
    return live.length;
  };
  return { schedule, fire };
}
