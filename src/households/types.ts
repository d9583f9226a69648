/**
 * The dispatcher's day (docs/households.md): one case per household unit, the complaints that join
 * it, the measurement tasks two staff do in the home, and the work orders sent to the repair crew.
 */
import type { HeatEvents } from '../core/events.ts';

export const CASE_STATES = ['open', 'measuring', 'fixing', 'watching', 'closed', 'escalated'] as const;
export type CaseState = (typeof CASE_STATES)[number];
export const OPEN_CASE_STATES: readonly CaseState[] = CASE_STATES.filter((s) => s !== 'closed');

export type CaseOrigin = 'sensor' | 'complaint' | 'measurement';
export const CHANNELS = ['hotline', 'online', 'app', 'visit'] as const;
export type Channel = (typeof CHANNELS)[number];
export const COMPLAINT_CLASSES = ['temperature', 'equipment', 'service', 'fees', 'other'] as const;
export type ComplaintClass = (typeof COMPLAINT_CLASSES)[number];

/** A household unit: building, floor, column (`n01/6-1`). */
export interface UnitRef {
  buildingId: string;
  floor: number;
  column: number;
  substationId: string;
  /** The room sensor in this unit, when it has one. */
  sensorId?: string;
}

export const unitKey = (u: { buildingId: string; floor: number; column: number }): string =>
  `${u.buildingId}/${u.floor}-${u.column}`;

export interface HouseholdCase extends UnitRef {
  id: string;
  unitKey: string;
  state: CaseState;
  origin: CaseOrigin;
  owner: string;
  openedTs: number;
  updatedTs: number;
  dueTs: number;
  closedTs?: number;
  /** 0: not escalated; n: the n-th configured escalation level. */
  escalationLevel: number;
  /** Set while watching: the case closes at this instant if the evidence holds. */
  watchUntilTs?: number;
  /** The state to go back to when the evidence fails while watching. */
  resumeState?: CaseState;
  complaints: number;
  /** A work order is done and the household has not been called back yet. */
  callbackPending: boolean;
  /** Building or substation tickets that concern this unit. */
  ticketIds: string[];
  lastTempC?: number;
}

export interface CaseEvent {
  caseId: string;
  ts: number;
  actor: string;
  kind: string;
  fromState?: CaseState;
  toState?: CaseState;
  note?: string;
}

export interface Complaint {
  id: string;
  caseId?: string;
  unitKey: string;
  buildingId: string;
  substationId: string;
  floor: number;
  column: number;
  receivedTs: number;
  channel: Channel;
  cls: ComplaintClass;
  caller: string;
  text: string;
  /** The first person who took it owns it (docs/domain.md "first contact owns it"). */
  takenBy: string;
  closedTs?: number;
}

export type TaskState = 'pending' | 'done' | 'overdue' | 'escalated';

export interface MeasurementTask {
  id: string;
  caseId: string;
  unitKey: string;
  createdTs: number;
  dueTs: number;
  state: TaskState;
  measurementId?: string;
  doneTs?: number;
}

export interface Measurement {
  id: string;
  caseId?: string;
  taskId?: string;
  unitKey: string;
  buildingId: string;
  floor: number;
  column: number;
  sensorId?: string;
  ts: number;
  rooms: Array<{ room: string; tempC: number }>;
  /** Mean of the rooms, °C. */
  tempC: number;
  measuredBy: [string, string, ...string[]];
  /** The sensor's value when the measurement was taken (for its bias). */
  sensorTempC?: number;
  recordedBy: string;
  note?: string;
}

export const WORK_ORDER_STATES = ['sent', 'accepted', 'on_site', 'done', 'called_back'] as const;
export type WorkOrderState = (typeof WORK_ORDER_STATES)[number];

export interface WorkOrder {
  id: string;
  caseId?: string;
  ticketId?: string;
  type: string;
  unitKey?: string;
  buildingId: string;
  substationId: string;
  createdTs: number;
  /** When the crew must be on site by (createdTs + the type's target). */
  onSiteDueTs: number;
  state: WorkOrderState;
  acceptedTs?: number;
  onSiteTs?: number;
  doneTs?: number;
  /** On site after the target, or not on site by it. */
  late: boolean;
  note?: string;
  photoRef?: string;
  callback?: { ts: number; by: string; result: string; satisfied: boolean };
  summary: string;
}

/** What the domain functions decide; the store applies it in one transaction. */
export interface Changes {
  cases: HouseholdCase[];
  events: CaseEvent[];
  complaints: Complaint[];
  tasks: MeasurementTask[];
  measurements: Measurement[];
  workOrders: WorkOrder[];
  /** Messages for the outbox (work orders, escalations), delivered by the webhook notifier. */
  outbox: Array<{ kind: string; body: unknown }>;
  /**
   * Alerts the decision raises, put on the bus only once it is stored: a decision made again after a
   * conflict (docs/households.md "Several instances") raises them once, one refused raises none.
   */
  alerts: Array<HeatEvents['alert']>;
}

export const noChanges = (): Changes => ({
  cases: [],
  events: [],
  complaints: [],
  tasks: [],
  measurements: [],
  workOrders: [],
  outbox: [],
  alerts: [],
});
