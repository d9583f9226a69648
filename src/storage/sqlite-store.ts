import type { Clock, TimerHandle } from '../core/clock.ts';
import { Errors } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { RoomReading, SubstationReading } from '../core/readings.ts';
import type { PositionClass } from '../core/registry.ts';
import type {
  HistoryPoint,
  HistoryQuery,
  ReadingStore,
  SubstationHistoryPoint,
  SubstationHistoryQuery,
} from './reading-store.ts';
import { checkRange, StoreWriteError } from './reading-store.ts';
import { type Db, type Migration, openDb } from './sqlite.ts';
import { inlineWriter, type ReadingTable, type SqliteWriter, workerWriter } from './sqlite-writer.ts';

/**
 * Position classes as bits of one integer column: a unit can be top and gable at once
 * (registry.positionClasses), and one covering index then serves every class filter.
 */
export const CLASS_BITS: Readonly<Record<PositionClass, number>> = { top: 1, ground: 2, gable: 4, middle: 8 };

export const classMask = (classes: readonly PositionClass[]): number =>
  classes.reduce((m, c) => m | CLASS_BITS[c], 0);

export const classesFromMask = (mask: number): PositionClass[] =>
  (Object.keys(CLASS_BITS) as PositionClass[]).filter((c) => (mask & CLASS_BITS[c]) !== 0);

/**
 * Room readings are keyed by (sensor, ts, source): the same series and instant written again replaces
 * the row, so a spool replay never doubles a reading (docs/architecture.md decision 4). `source` is part
 * of the key because a manual in-home measurement is a reading of its own, never an overwrite of the
 * sensor's (docs/domain.md), matching the InfluxDB schema where `source` is a tag.
 * WITHOUT ROWID clusters each sensor's rows by time (ts before source, so a time range is one key
 * range of the primary key), so per-sensor history reads only the rows it returns; the
 * building and substation indexes carry ts, classes and temp so those queries never touch the table.
 */
export const readingStoreMigrations: readonly Migration[] = [
  {
    id: 'readings-001',
    sql: `
      CREATE TABLE room_readings (
        sensor_id     TEXT    NOT NULL,
        source        TEXT    NOT NULL,
        ts            INTEGER NOT NULL,
        temp_c        REAL    NOT NULL,
        humidity_pct  REAL,
        battery_v     REAL,
        seq           INTEGER,
        building_id   TEXT    NOT NULL,
        substation_id TEXT    NOT NULL,
        floor         INTEGER NOT NULL,
        col           INTEGER NOT NULL,
        classes       INTEGER NOT NULL,
        PRIMARY KEY (sensor_id, ts, source)
      ) WITHOUT ROWID;
      CREATE INDEX room_readings_building ON room_readings (building_id, ts, classes, temp_c);
      CREATE INDEX room_readings_substation ON room_readings (substation_id, ts, classes, temp_c);
      CREATE INDEX room_readings_ts ON room_readings (ts);
      CREATE TABLE substation_readings (
        substation_id   TEXT    NOT NULL,
        ts              INTEGER NOT NULL,
        supply_temp_c   REAL    NOT NULL,
        return_temp_c   REAL    NOT NULL,
        flow_m3h        REAL,
        heat_kw         REAL,
        valve_pct       REAL,
        outdoor_temp_c  REAL,
        supply_offset_c REAL,
        PRIMARY KEY (substation_id, ts)
      ) WITHOUT ROWID;
      CREATE INDEX substation_readings_ts ON substation_readings (ts);
    `,
  },
];

export interface SqliteStoreOptions {
  /** Path of the database file (or `:memory:` in unit tests). */
  file: string;
  /** Rows older than this (by reading time, against the injected clock) are pruned. */
  retentionDays: number;
  /** How often pruning runs, in heating-time ms. */
  pruneIntervalMs: number;
  /** Rows deleted per pruning transaction, so one prune never holds the write lock for long. */
  pruneChunkRows: number;
  /**
   * FULL by default: ingestion acknowledges a reading to the broker once this store has it, so a
   * committed batch must survive a power cut, not only a killed process (sqlite.ts).
   */
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
  /**
   * Writes (batches and pruning) on a worker thread with its own connection (`store.sqlite.writeInWorker`),
   * so a transaction never holds up the event loop; otherwise on the caller's thread. A `:memory:`
   * database is always written inline.
   */
  writeInWorker?: boolean;
}

interface HistoryRow {
  bucket: number;
  mean: number;
  min: number;
  max: number;
  n: number;
}

interface SubstationRow {
  bucket: number;
  supply: number;
  ret: number;
  outdoor: number | null;
  n: number;
}

/**
 * The embedded reading store (docs/architecture.md decision 2). better-sqlite3 is synchronous: each write
 * commits before its promise is even returned, so "resolved" always means "committed"; a write that
 * throws has rolled back as a whole and rejects.
 */
export class SqliteReadingStore implements ReadingStore {
  readonly kind = 'sqlite';
  private db: Db | undefined;
  private pruneTimer: TimerHandle | undefined;
  private pruning = false;
  private writer: SqliteWriter | undefined;

  constructor(
    private readonly opts: SqliteStoreOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.db) return;
    const db = openDb(this.opts.file, {
      synchronous: this.opts.synchronous,
      migrations: readingStoreMigrations,
      busyTimeoutMs: this.opts.busyTimeoutMs,
    });
    const { file, synchronous, busyTimeoutMs } = this.opts;
    this.writer =
      this.opts.writeInWorker && file !== ':memory:'
        ? workerWriter({ file, synchronous, busyTimeoutMs })
        : inlineWriter(db);
    this.db = db;
    this.pruneTimer = this.clock.setInterval(() => {
      void this.prune();
    }, this.opts.pruneIntervalMs);
    this.log.info({ file: this.opts.file, retentionDays: this.opts.retentionDays }, 'reading store open');
  }

  async stop(): Promise<void> {
    this.pruneTimer?.cancel();
    this.pruneTimer = undefined;
    const db = this.db;
    const writer = this.writer;
    this.db = undefined;
    this.writer = undefined;
    await writer?.close();
    db?.close();
  }

  // Inline, the transaction runs and commits before the promise is handed back; in the worker, the
  // promise resolves once it committed there.
  writeRoom(readings: readonly RoomReading[]): Promise<void> {
    if (!this.writer) return notStarted();
    return this.writer.room(readings).catch((err: unknown) => Promise.reject(toWriteError(err)));
  }

  writeSubstation(readings: readonly SubstationReading[]): Promise<void> {
    if (!this.writer) return notStarted();
    return this.writer.substation(readings).catch((err: unknown) => Promise.reject(toWriteError(err)));
  }

  async roomHistory(q: HistoryQuery): Promise<HistoryPoint[]> {
    const db = this.open();
    const every = bucketMs(q.everyMs);
    checkRange(q);
    const where: string[] = ['ts >= ?', 'ts < ?'];
    const args: Array<number | string> = [q.fromMs, q.toMs];
    if (q.sensorId !== undefined) {
      where.unshift('sensor_id = ?');
      args.unshift(q.sensorId);
    } else if (q.buildingId !== undefined) {
      where.unshift('building_id = ?');
      args.unshift(q.buildingId);
    } else if (q.substationId !== undefined) {
      where.unshift('substation_id = ?');
      args.unshift(q.substationId);
    } else {
      throw Errors.badRequest('a history query needs a sensor, a building or a substation');
    }
    if (q.positionClass !== undefined) {
      where.push('(classes & ?) != 0');
      args.push(CLASS_BITS[q.positionClass]);
    }
    // Integer division floors for ts >= 0, which aligns buckets to multiples of everyMs since the epoch
    // like InfluxQL's GROUP BY time(); negative epochs are not readings heatwatch accepts. The CAST is
    // needed because better-sqlite3 binds JS numbers as REAL, which would make the division exact.
    const rows = db
      .prepare(
        `SELECT (ts / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS bucket, AVG(temp_c) AS mean, MIN(temp_c) AS min, MAX(temp_c) AS max,
                COUNT(*) AS n
           FROM room_readings WHERE ${where.join(' AND ')}
          GROUP BY bucket ORDER BY bucket`,
      )
      .all(every, every, ...args) as HistoryRow[];
    return rows.map((r) => ({ ts: r.bucket, meanC: r.mean, minC: r.min, maxC: r.max, count: r.n }));
  }

  async substationHistory(q: SubstationHistoryQuery): Promise<SubstationHistoryPoint[]> {
    const db = this.open();
    const every = bucketMs(q.everyMs);
    checkRange(q);
    const rows = db
      .prepare(
        `SELECT (ts / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS bucket, AVG(supply_temp_c) AS supply, AVG(return_temp_c) AS ret,
                AVG(outdoor_temp_c) AS outdoor, COUNT(*) AS n
           FROM substation_readings WHERE substation_id = ? AND ts >= ? AND ts < ?
          GROUP BY bucket ORDER BY bucket`,
      )
      .all(every, every, q.substationId, q.fromMs, q.toMs) as SubstationRow[];
    return rows.map((r) => {
      const p: SubstationHistoryPoint = {
        ts: r.bucket,
        supplyTempC: r.supply,
        returnTempC: r.ret,
        count: r.n,
      };
      if (r.outdoor !== null) p.outdoorTempC = r.outdoor;
      return p;
    });
  }

  async ping(): Promise<boolean> {
    try {
      return this.db?.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  /**
   * Deletes readings older than the retention window, a chunk per transaction with a turn of the
   * event loop between chunks so ingestion's writes interleave. Returns the rows deleted.
   */
  async prune(): Promise<number> {
    if (this.pruning || !this.db) return 0;
    this.pruning = true;
    let total = 0;
    let cutoff = 0;
    try {
      for (const table of ['room_readings', 'substation_readings'] as ReadingTable[]) {
        for (;;) {
          const writer = this.writer;
          if (!writer) return total;
          // Re-read the clock per chunk: a prune that spans a timer tick uses the later cutoff.
          cutoff = this.clock.now() - this.opts.retentionDays * 86_400_000;
          const changes = await writer.prune(table, cutoff, this.opts.pruneChunkRows);
          total += changes;
          if (changes < this.opts.pruneChunkRows) break;
          await new Promise((r) => setImmediate(r));
        }
      }
      if (total > 0) this.log.info({ deleted: total, cutoff }, 'pruned readings past retention');
      return total;
    } catch (err) {
      this.log.error({ err }, 'pruning the reading store failed');
      return total;
    } finally {
      this.pruning = false;
    }
  }

  private open(): Db {
    if (!this.db) throw Errors.storeDown('the SQLite reading store is not started');
    return this.db;
  }
}

const notStarted = (): Promise<void> =>
  Promise.reject(new StoreWriteError('the SQLite reading store is not started', true));

/**
 * SQLite refusing the rows themselves (a constraint, a value too big) fails the same way on every
 * replay; anything else (busy, I/O, disk full) may pass later. Codes: https://sqlite.org/rescode.html
 */
const PERMANENT_SQLITE = /^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/;

function toWriteError(err: unknown): StoreWriteError {
  const code = (err as { code?: unknown }).code;
  const message = `SQLite write failed: ${err instanceof Error ? err.message : String(err)}`;
  return new StoreWriteError(message, !(typeof code === 'string' && PERMANENT_SQLITE.test(code)));
}

/** Buckets are whole milliseconds of at least 1; a hostile `every=0` would divide by zero. */
const bucketMs = (everyMs: number): number => {
  if (!Number.isFinite(everyMs) || everyMs < 1) throw Errors.badRequest('every must be at least 1 ms');
  return Math.floor(everyMs);
};
