import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RoomReading, SubstationReading } from '../core/readings.ts';
import type { Db } from './sqlite.ts';
import { classMask } from './sqlite-store.ts';

/** The two reading tables; pruning works on one at a time. */
export type ReadingTable = 'room_readings' | 'substation_readings';

/**
 * Where the SQLite reading store's writes run: on the caller's thread (`inlineWriter`), or on a worker
 * thread with its own connection (`workerWriter`), so that a store transaction never holds up the
 * event loop that acknowledges messages and updates the live state (issue #14). Both commit a batch
 * as one transaction; a promise resolves once it committed and rejects with the SQLite error (its
 * `code` kept) once it rolled back.
 */
export interface SqliteWriter {
  room(rows: readonly RoomReading[]): Promise<void>;
  substation(rows: readonly SubstationReading[]): Promise<void>;
  /** Deletes up to `limit` rows older than `cutoffMs`; resolves with how many went. */
  prune(table: ReadingTable, cutoffMs: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

const ROOM_SQL = `INSERT OR REPLACE INTO room_readings
  (sensor_id, source, ts, temp_c, humidity_pct, battery_v, seq, building_id, substation_id, floor, col, classes)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const SUB_SQL = `INSERT OR REPLACE INTO substation_readings
  (substation_id, ts, supply_temp_c, return_temp_c, flow_m3h, heat_kw, valve_pct, outdoor_temp_c, supply_offset_c)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const KEYS: Record<ReadingTable, string> = {
  room_readings: 'sensor_id, ts, source',
  substation_readings: 'substation_id, ts',
};

/** The synchronous statements both writers run: one transaction per batch. */
export function prepareWrites(db: Db) {
  const room = db.prepare(ROOM_SQL);
  const sub = db.prepare(SUB_SQL);
  const prunes = new Map(
    (Object.keys(KEYS) as ReadingTable[]).map((t) => [
      t,
      db.prepare(`DELETE FROM ${t} WHERE (${KEYS[t]}) IN (SELECT ${KEYS[t]} FROM ${t} WHERE ts < ? LIMIT ?)`),
    ]),
  );
  return {
    room: db.transaction((rows: readonly RoomReading[]) => {
      for (const r of rows)
        room.run(
          r.sensorId,
          r.source,
          r.ts,
          r.tempC,
          r.humidityPct ?? null,
          r.batteryV ?? null,
          r.seq ?? null,
          r.buildingId,
          r.substationId,
          r.floor,
          r.column,
          classMask(r.classes),
        );
    }),
    substation: db.transaction((rows: readonly SubstationReading[]) => {
      for (const r of rows)
        sub.run(
          r.substationId,
          r.ts,
          r.supplyTempC,
          r.returnTempC,
          r.flowM3h ?? null,
          r.heatKw ?? null,
          r.valvePct ?? null,
          r.outdoorTempC ?? null,
          r.supplyOffsetC ?? null,
        );
    }),
    prune: (table: ReadingTable, cutoffMs: number, limit: number): number =>
      prunes.get(table)?.run(cutoffMs, limit).changes ?? 0,
  };
}

export type PreparedWrites = ReturnType<typeof prepareWrites>;

/** Writes on the caller's thread: each promise is settled before it is returned. */
export function inlineWriter(db: Db): SqliteWriter {
  const w = prepareWrites(db);
  const settle = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return {
    room: (rows) => settle(() => w.room(rows)),
    substation: (rows) => settle(() => w.substation(rows)),
    prune: (table, cutoffMs, limit) => settle(() => w.prune(table, cutoffMs, limit)),
    close: async () => undefined,
  };
}

/** A request to the worker (sqlite-writer-worker.ts) and its answer. */
type WriteBody =
  | { op: 'room'; rows: readonly RoomReading[] }
  | { op: 'substation'; rows: readonly SubstationReading[] }
  | { op: 'prune'; table: ReadingTable; cutoffMs: number; limit: number };
export type WriteRequest = WriteBody & { id: number };
export type WriteAnswer = { id: number; changes: number } | { id: number; error: string; code?: string };

export interface WorkerWriterOptions {
  file: string;
  synchronous: 'FULL' | 'NORMAL';
  busyTimeoutMs: number;
}

/**
 * The worker runs TypeScript like the rest of heatwatch (docs/architecture.md decision 12). Node 20
 * does not carry tsx's loader from `--import tsx` into a worker, so the worker starts from this small
 * script, which registers tsx's ESM loader (`tsx/esm/api`) and then imports the worker module.
 */
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((m) => m.register()).then(() => import(workerData.entry));`;

const tsxApiUrl = (): string =>
  // The package's `require` entry is index.cjs; the ESM one beside it is what import() wants.
  pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;

/**
 * Writes on a worker thread with its own connection to the same file (WAL: the caller's connection
 * keeps reading meanwhile). Requests are answered in order. If the worker dies, what was pending
 * rejects (the spool keeps those readings and replays them) and the next write starts a new one.
 */
export function workerWriter(opts: WorkerWriterOptions): SqliteWriter {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (n: number) => void; reject: (e: Error) => void }>();
  const inflight = new Set<Promise<number>>();
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker = undefined;
  };
  const spawn = (): Worker => {
    const w = new Worker(BOOTSTRAP, {
      eval: true,
      execArgv: [],
      workerData: {
        ...opts,
        tsxApi: tsxApiUrl(),
        entry: new URL('./sqlite-writer-worker.ts', import.meta.url).href,
      },
    });
    w.on('message', (a: WriteAnswer) => {
      const p = pending.get(a.id);
      if (!p) return;
      pending.delete(a.id);
      if ('error' in a) p.reject(Object.assign(new Error(a.error), { code: a.code }));
      else p.resolve(a.changes);
    });
    w.on('error', (err) => failAll(err));
    w.on('exit', (code) => {
      if (worker === w) failAll(new Error(`the SQLite writer thread exited (code ${code})`));
    });
    return w;
  };
  const send = (req: WriteBody): Promise<number> => {
    const p = new Promise<number>((resolve, reject) => {
      worker ??= spawn();
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id });
    });
    inflight.add(p);
    const forget = () => inflight.delete(p);
    p.then(forget, forget);
    return p;
  };
  return {
    room: async (rows) => {
      if (rows.length > 0) await send({ op: 'room', rows });
    },
    substation: async (rows) => {
      if (rows.length > 0) await send({ op: 'substation', rows });
    },
    prune: (table, cutoffMs, limit) => send({ op: 'prune', table, cutoffMs, limit }),
    close: async () => {
      // The thread ends after the transactions it was given have answered.
      await Promise.allSettled([...inflight]);
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}
