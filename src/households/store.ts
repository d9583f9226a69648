import { HwError } from '../core/errors.ts';
import type {
  CaseEvent,
  CaseState,
  Changes,
  Complaint,
  HouseholdCase,
  Measurement,
  MeasurementTask,
  TaskState,
  WorkOrder,
} from './types.ts';

/**
 * `commit` refused a decision that opens a case on a unit whose open case another instance on the
 * same database committed first (the one-open-case index). Decided again, the call joins that case.
 */
export class OpenCaseTaken extends Error {
  constructor(
    readonly unitKey: string,
    options?: ErrorOptions,
  ) {
    super(`unit ${unitKey} has an open case already`, options);
    this.name = 'OpenCaseTaken';
  }
}

/**
 * `commit` refused a decision made on a case, task or work order that another instance on the same
 * database changed after it was read (its row version moved on). Decided again on the new version,
 * the call does its work once: two instances' due checks never escalate a case twice.
 */
export class StaleRecord extends HwError {
  constructor(
    readonly table: string,
    readonly id: string,
  ) {
    super('HW_ERR_CONFLICT', 409, `${id} changed while this request was decided; try again.`);
    this.name = 'StaleRecord';
  }
}

/**
 * `commit` was aborted by PostgreSQL because another instance's transaction wanted the same rows at
 * the same moment (40P01 deadlock_detected, 40001 serialization_failure): nothing was written.
 * Decided again on what that instance wrote, the call goes through.
 */
export class WriteConflict extends HwError {
  constructor(options?: ErrorOptions) {
    super('HW_ERR_CONFLICT', 409, 'Another instance changed the same records at the same moment; try again.');
    this.name = 'WriteConflict';
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** Whether a decision refused for another instance's write is made again (docs/households.md). */
export const decideAgain = (err: unknown): boolean =>
  err instanceof OpenCaseTaken || err instanceof StaleRecord || err instanceof WriteConflict;

/** One scheduled run of a job (`digest`, `bulletin`): the time its cron fired it for. */
export interface JobRun {
  job: string;
  slotTs: number;
  /** Records of the job's runs scheduled before this are deleted when this one is recorded. */
  pruneBeforeTs?: number;
}

/** A message waiting in the outbox; `id` is the delivery id receivers dedupe by. */
export interface OutboxItem {
  id: string;
  kind: string;
  body: unknown;
  createdTs: number;
  attempts: number;
  nextTs: number;
  deliveredTs?: number;
  deadTs?: number;
  lastError?: string;
}

export interface StoredReport {
  id: string;
  kind: 'bulletin' | 'digest';
  ts: number;
  body: unknown;
}

/**
 * The households persistence port, implemented once over the ops database's query layer for SQLite
 * and PostgreSQL (`SqlHouseholdsStore`). Every write goes through `commit`, which applies one
 * decision of the domain functions atomically.
 */
export interface HouseholdsStore {
  openCaseByUnit(unitKey: string): Promise<HouseholdCase | undefined>;
  getCase(id: string): Promise<HouseholdCase | undefined>;
  listCases(f: {
    states?: readonly CaseState[];
    openedFromTs?: number;
    closedFromTs?: number;
  }): Promise<HouseholdCase[]>;
  caseEvents(caseId: string): Promise<CaseEvent[]>;
  complaints(f: { caseId?: string; fromTs?: number; toTs?: number }): Promise<Complaint[]>;
  tasks(f: { caseId?: string; states?: readonly TaskState[] }): Promise<MeasurementTask[]>;
  getTask(id: string): Promise<MeasurementTask | undefined>;
  measurements(f: { unitKey?: string; sensorId?: string; caseId?: string }): Promise<Measurement[]>;
  workOrders(f: { caseId?: string; fromTs?: number }): Promise<WorkOrder[]>;
  getWorkOrder(id: string): Promise<WorkOrder | undefined>;
  /**
   * Applies the changes and enqueues their outbox messages in one transaction. Throws StaleRecord
   * (nothing written) when a case, task or work order read from the store changed since.
   */
  commit(c: Changes, now: number): Promise<void>;
  /**
   * Saves reports (each kind keeps its newest `keep`) with the changes, in one transaction. With
   * `run`, only if no instance on the database made that run yet: false, and nothing written, if one did.
   */
  commitReports(
    reports: readonly StoredReport[],
    keep: number,
    c: Changes,
    now: number,
    run?: JobRun,
  ): Promise<boolean>;
  /** Whether the scheduled run was made already (by any instance on the database). */
  jobRan(run: JobRun): Promise<boolean>;

  /**
   * Up to `limit` deliveries due at `now`, each claimed for this caller until `claimUntil`: no other
   * deliverer (another instance on the same database) gets it before then, unless it is marked
   * failed with an earlier retry time.
   */
  outboxClaim(now: number, limit: number, claimUntil: number): Promise<OutboxItem[]>;
  outboxDelivered(id: string, ts: number): Promise<void>;
  outboxFailed(id: string, attempts: number, nextTs: number, error: string, dead: boolean): Promise<void>;
  outboxItems(f: { state?: 'pending' | 'delivered' | 'dead'; limit: number }): Promise<OutboxItem[]>;

  saveReport(r: StoredReport, keep: number): Promise<void>;
  reports(kind: StoredReport['kind'], limit: number): Promise<StoredReport[]>;
  getReport(id: string): Promise<StoredReport | undefined>;
}
