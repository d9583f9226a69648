import { InfluxDB, setLogger, type WriteOptions } from '@influxdata/influxdb-client';
import { Errors } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import type { RoomReading, SubstationReading } from '../core/readings.ts';
import {
  classTag,
  ROOM_MEASUREMENT,
  roomLine,
  SUBSTATION_MEASUREMENT,
  substationLine,
} from './line-protocol.ts';
import type {
  HistoryPoint,
  HistoryQuery,
  ReadingStore,
  SubstationHistoryPoint,
  SubstationHistoryQuery,
} from './reading-store.ts';
import { checkRange, StoreWriteError } from './reading-store.ts';

export interface InfluxStoreOptions {
  /** Base URL, e.g. http://influxdb:8086. */
  url: string;
  token: string | undefined;
  org: string;
  /** The bucket; for InfluxQL it is the database name (2.x maps it through a DBRP, 3.x directly). */
  bucket: string;
  /** Per HTTP request, for writes and queries alike. */
  timeoutMs: number;
  /** Most lines per write request; a larger batch is sent as several requests, in order. */
  writeBatchLines: number;
  /** Most bytes of line protocol per write request. */
  writeBatchBytes: number;
  /** Write bodies larger than this are gzipped. */
  gzipThresholdBytes: number;
}

interface InfluxSeries {
  name?: string;
  columns: string[];
  values?: Array<Array<number | string | null>>;
}

interface InfluxQueryResponse {
  error?: string;
  results?: Array<{ statement_id?: number; error?: string; series?: InfluxSeries[] }>;
}

/**
 * The InfluxDB reading store (docs/architecture.md decision 2): writes through the v2 write API that InfluxDB
 * 1.8+, 2.x and 3.x all serve; history through InfluxQL on `/query`, which all three serve too (Flux
 * is not used because InfluxDB 3 dropped it). Schema: docs/influx-schema.md and line-protocol.ts.
 */
export class InfluxReadingStore implements ReadingStore {
  readonly kind = 'influxdb';
  private client: InfluxDB | undefined;
  private writeOptions: Partial<WriteOptions> | undefined;

  constructor(
    private readonly opts: InfluxStoreOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.client) return;
    this.client = new InfluxDB({ url: this.opts.url, token: this.opts.token, timeout: this.opts.timeoutMs });
    this.writeOptions = {
      // heatwatch owns retries, not the client. The client's retry buffer keeps failed lines in memory
      // and silently drops them past maxBufferLines or maxRetryTime, and a batch it flushes on its own
      // (size or interval trigger) reports failure only to its log. Either way a reading the broker
      // had been told was safe could vanish. With no retries, no interval flush and batches that never
      // reach the client's own size limits, every failure rejects our promise, and the caller spools
      // the batch durably and replays it (docs/architecture.md decision 4).
      maxRetries: 0,
      maxBufferLines: 1,
      flushInterval: 0,
      batchSize: this.opts.writeBatchLines + 1,
      maxBatchBytes: this.opts.writeBatchBytes + 2,
      gzipThreshold: this.opts.gzipThresholdBytes,
      writeFailed: (): void => undefined,
    };
    // The client prints failed writes to the console itself; heatwatch logs them once, where the
    // rejection is handled (the spool), so the client's own lines go to debug. The setting is global
    // to the client library, and heatwatch runs one InfluxDB store per process.
    setLogger({
      error: (message, err) => this.log.debug({ err }, message),
      warn: (message, err) => this.log.debug({ err }, message),
    });
    this.log.info({ url: this.opts.url, bucket: this.opts.bucket }, 'reading store: InfluxDB');
  }

  async stop(): Promise<void> {
    this.client = undefined;
  }

  writeRoom(readings: readonly RoomReading[]): Promise<void> {
    return this.writeLines(readings.map(roomLine));
  }

  writeSubstation(readings: readonly SubstationReading[]): Promise<void> {
    return this.writeLines(readings.map(substationLine));
  }

  /** Sends the lines in order, in requests bounded by lines and bytes; rejects on the first failure. */
  private async writeLines(lines: string[]): Promise<void> {
    const client = this.client;
    if (!client || !this.writeOptions)
      throw new StoreWriteError('the InfluxDB reading store is not started', true);
    let chunk: string[] = [];
    let bytes = 0;
    for (const l of lines) {
      const size = Buffer.byteLength(l) + 1;
      if (
        chunk.length > 0 &&
        (chunk.length >= this.opts.writeBatchLines || bytes + size > this.opts.writeBatchBytes)
      ) {
        await this.send(client, chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(l);
      bytes += size;
    }
    if (chunk.length > 0) await this.send(client, chunk);
  }

  private async send(client: InfluxDB, lines: string[]): Promise<void> {
    // One write API per request: close() flushes exactly these lines and rejects if they were not
    // stored, and no state is shared between concurrent writes.
    const api = client.getWriteApi(this.opts.org, this.opts.bucket, 'ms', this.writeOptions);
    api.writeRecords(lines);
    try {
      await api.close();
    } catch (err) {
      const status = (err as { statusCode?: unknown }).statusCode;
      // 400 (bad line, field type conflict), 413 (body too large) and 422 (outside the bucket's
      // retention) refuse the data itself. Anything else — refused connection, timeout, 5xx, 429, and
      // 401/403/404 (a token or bucket an operator must fix) — can succeed when replayed later.
      const permanent = status === 400 || status === 413 || status === 422;
      const message = `InfluxDB write failed: ${err instanceof Error ? err.message : String(err)}`;
      throw new StoreWriteError(message, !permanent);
    }
  }

  async roomHistory(q: HistoryQuery): Promise<HistoryPoint[]> {
    const where: string[] = [];
    if (q.sensorId !== undefined) where.push(`"sensor" = ${str(q.sensorId)}`);
    else if (q.buildingId !== undefined) where.push(`"building" = ${str(q.buildingId)}`);
    else if (q.substationId !== undefined) where.push(`"substation" = ${str(q.substationId)}`);
    else throw Errors.badRequest('a history query needs a sensor, a building or a substation');
    if (q.positionClass !== undefined) where.push(`"${classTag(q.positionClass)}" = 'true'`);
    const sql =
      `SELECT mean("temp_c") AS "mean", min("temp_c") AS "min", max("temp_c") AS "max", ` +
      `count("temp_c") AS "n" FROM "${ROOM_MEASUREMENT}" WHERE ${where.join(' AND ')} AND ${timeRange(q)} ` +
      `GROUP BY time(${every(q.everyMs)}ms) fill(none)`;
    const rows = await this.query(sql);
    return rows.map((r) => ({
      ts: num(r.time),
      meanC: num(r.mean),
      minC: num(r.min),
      maxC: num(r.max),
      count: num(r.n),
    }));
  }

  async substationHistory(q: SubstationHistoryQuery): Promise<SubstationHistoryPoint[]> {
    const sql =
      `SELECT mean("supply_temp_c") AS "supply", mean("return_temp_c") AS "ret", ` +
      `mean("outdoor_temp_c") AS "outdoor", count("supply_temp_c") AS "n" FROM "${SUBSTATION_MEASUREMENT}" ` +
      `WHERE "substation" = ${str(q.substationId)} AND ${timeRange(q)} ` +
      `GROUP BY time(${every(q.everyMs)}ms) fill(none)`;
    const rows = await this.query(sql);
    return rows.map((r) => {
      const p: SubstationHistoryPoint = {
        ts: num(r.time),
        supplyTempC: num(r.supply),
        returnTempC: num(r.ret),
        count: num(r.n),
      };
      if (typeof r.outdoor === 'number') p.outdoorTempC = r.outdoor;
      return p;
    });
  }

  /** `/ping` answers 204 on InfluxDB 1.x, 2.x and 3.x without touching data. */
  async ping(): Promise<boolean> {
    try {
      const res = await fetch(new URL('/ping', this.opts.url), {
        headers: this.authHeaders(),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Runs one InfluxQL statement over the v1-compatible `/query` and returns its rows by column. */
  private async query(sql: string): Promise<Array<Record<string, number | string | null>>> {
    if (!this.client) throw Errors.storeDown('the InfluxDB reading store is not started');
    const url = new URL('/query', this.opts.url);
    url.searchParams.set('db', this.opts.bucket);
    url.searchParams.set('epoch', 'ms');
    url.searchParams.set('q', sql);
    let body: InfluxQueryResponse;
    try {
      const res = await fetch(url, {
        headers: { ...this.authHeaders(), accept: 'application/json' },
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      const text = await res.text();
      body = text ? (JSON.parse(text) as InfluxQueryResponse) : {};
      if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
    } catch (err) {
      throw Errors.storeDown(`InfluxDB query failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    const result = body.results?.[0];
    const error = body.error ?? result?.error;
    // A database that does not exist yet has no readings: an empty history, not an outage.
    if (error && /database not found/i.test(error)) return [];
    if (error) throw Errors.storeDown(`InfluxDB query failed: ${error}`);
    const out: Array<Record<string, number | string | null>> = [];
    for (const s of result?.series ?? []) {
      for (const v of s.values ?? []) {
        const row: Record<string, number | string | null> = {};
        s.columns.forEach((c, i) => {
          row[c] = v[i] ?? null;
        });
        out.push(row);
      }
    }
    out.sort((a, b) => num(a.time) - num(b.time));
    return out;
  }

  private authHeaders(): Record<string, string> {
    return this.opts.token ? { authorization: `Token ${this.opts.token}` } : {};
  }
}

/** An InfluxQL string literal: backslash and single quote escaped, so an id cannot end the literal. */
const str = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const timeRange = (q: { fromMs: number; toMs: number }): string => {
  checkRange(q);
  return `time >= ${Math.floor(q.fromMs)}ms AND time < ${Math.floor(q.toMs)}ms`;
};

const every = (everyMs: number): number => {
  if (!Number.isFinite(everyMs) || everyMs < 1) throw Errors.badRequest('every must be at least 1 ms');
  return Math.floor(everyMs);
};

const num = (v: number | string | null | undefined): number => (typeof v === 'number' ? v : Number(v));
