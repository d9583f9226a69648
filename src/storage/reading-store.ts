import { Errors, HwError } from '../core/errors.ts';
import type { RoomReading, SubstationReading } from '../core/readings.ts';
import type { PositionClass } from '../core/registry.ts';

/**
 * A history query over readings with `fromMs <= ts < toMs`. Buckets are aligned to multiples of
 * `everyMs` since the epoch (as InfluxQL's GROUP BY time() does); empty buckets are left out.
 */
export interface HistoryQuery {
  fromMs: number;
  toMs: number;
  everyMs: number;
  /** Exactly one of these scopes the query. */
  sensorId?: string;
  buildingId?: string;
  substationId?: string;
  /** With buildingId or substationId: only units of this position class. */
  positionClass?: PositionClass;
}

/** A substation meter history query; buckets as in HistoryQuery. */
export interface SubstationHistoryQuery {
  substationId: string;
  fromMs: number;
  toMs: number;
  everyMs: number;
}

/** A range must be two finite instants; the HTTP layer validates too, this guards other callers. */
export function checkRange(q: { fromMs: number; toMs: number }): void {
  if (!Number.isFinite(q.fromMs) || !Number.isFinite(q.toMs))
    throw Errors.badRequest('from and to must be epoch milliseconds');
}

export interface HistoryPoint {
  /** Start of the bucket, epoch ms. */
  ts: number;
  meanC: number;
  minC: number;
  maxC: number;
  count: number;
}

export interface SubstationHistoryPoint {
  ts: number;
  supplyTempC: number;
  returnTempC: number;
  outdoorTempC?: number;
  count: number;
}

/**
 * Why a write failed, as the spool needs to know it. `retriable`: the store is down, slow or busy, and
 * the same batch will succeed later (spool it and replay with backoff). Not retriable: the store
 * refused the data itself (a constraint, a field type conflict, a body too large); replaying it
 * unchanged fails forever, so the caller should dead-letter it rather than block the spool behind it.
 */
export class StoreWriteError extends HwError {
  constructor(
    message: string,
    readonly retriable: boolean,
  ) {
    super(retriable ? 'HW_ERR_STORE_UNAVAILABLE' : 'HW_ERR_STORE_REFUSED', retriable ? 503 : 502, message);
    this.name = 'StoreWriteError';
  }
}

/**
 * The reading store port (docs/architecture.md decision 2). Writes are idempotent: the same series and
 * timestamp written twice is one point, so spool replays never double a reading.
 * A write that rejects has stored nothing the caller may count on; the caller spools the batch. Writes
 * reject with a StoreWriteError saying whether a replay can succeed.
 */
export interface ReadingStore {
  readonly kind: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  writeRoom(readings: readonly RoomReading[]): Promise<void>;
  writeSubstation(readings: readonly SubstationReading[]): Promise<void>;
  roomHistory(q: HistoryQuery): Promise<HistoryPoint[]>;
  substationHistory(q: SubstationHistoryQuery): Promise<SubstationHistoryPoint[]>;
  /** Cheap reachability check for /api/health. */
  ping(): Promise<boolean>;
}
