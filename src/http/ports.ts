/**
 * What the HTTP layer needs from the rest of heatwatch, as small interfaces (docs/architecture.md
 * "Modules and their ports": `http` reads state through interfaces). src/app/http.ts passes the real
 * modules; the route tests pass in-memory fakes.
 */
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { BuildingState, HeatEvents } from '../core/events.ts';
import type { RoomReading } from '../core/readings.ts';
import type { HouseholdsPort } from '../households/http-port.ts';
import type { LiveView } from '../state/live-view.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import type { TicketView } from './ticket-schemas.ts';

export { ROLE_RANK, type Role } from '../core/roles.ts';
export type { LiveView };

/**
 * The dashboard colour of a building: the rules' judgement (`RulesEngine.stateOf`, from the findings
 * of the rules that declare a building state). The API judges nothing itself.
 */
export interface BuildingStateView {
  stateOf(buildingId: string): BuildingState;
}

export type TicketAction = 'approve' | 'apply' | 'reject' | 'close';
export const TICKET_ACTIONS: readonly TicketAction[] = ['approve', 'apply', 'reject', 'close'];

/** A ticket as the API shows it: the wire type of `ticketSchema`, one definition for server and dashboard. */
export type { TicketView };
export type TicketEventView = TicketView['events'][number];
/** What heatwatch sent and what the substation reports in force (they differ until confirmed). */
export type SetpointView = NonNullable<TicketView['setpoint']>;
/** The unit an evidence value carries, read from the suffix of its key (names carry units). */
export type EvidenceUnit = NonNullable<TicketView['evidence'][number]['unit']>;

/** Ticket queue port. Actions throw `HwError` (404 unknown ticket, 409 wrong status). */
export interface TicketsPort {
  list(filter: { status?: string }): Promise<TicketView[]>;
  get(id: string): Promise<TicketView | undefined>;
  act(id: string, action: TicketAction, actor: string, note?: string): Promise<TicketView>;
}

/** History from the reading store (docs/architecture.md decision 2). `ReadingStore` satisfies it. */
export type HistoryPort = Pick<ReadingStore, 'roomHistory' | 'substationHistory'>;

export interface MetricsPort {
  /** Prometheus text exposition format. */
  render(): string | Promise<string>;
  /** The full exposition when the registry has one (prom-client: histograms, process metrics). */
  exposition?(): Promise<string>;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  broker: { connected: boolean; detail?: string };
  store: { kind: string; reachable: boolean };
  spoolDepth: number;
  configVersion: string;
}

export interface HealthPort {
  health(): Promise<HealthReport>;
}

/** A manual in-home measurement (docs/domain.md: two staff, calibrated thermometer, room by room). */
export interface ManualMeasurement {
  buildingId: string;
  floor: number;
  column: number;
  ts: number;
  rooms: Array<{ room: string; tempC: number }>;
  measuredBy: string[];
  note?: string;
}

export interface ManualReadingSink {
  /** Makes the measurement durable like any reading; refuses with a reason instead of throwing. */
  submit(reading: RoomReading, m: ManualMeasurement): Promise<{ ok: true } | { ok: false; reason: string }>;
}

/** Compliance figures per building (shares of unit-hours), from the rules' unit-hours (src/http/compliance.ts). */
export interface ComplianceRow {
  buildingId: string;
  name: string;
  substationId: string;
  unitHours: number;
  inBandShare: number;
  belowShare: number;
  aboveShare: number;
  meanC?: number;
}
export interface ColdUnitRow {
  sensorId: string;
  buildingId: string;
  floor: number;
  column: number;
  classes: string[];
  meanC: number;
  belowShare: number;
}
export interface ComplianceReport {
  fromMs: number;
  toMs: number;
  bandLowC: number;
  bandHighC: number;
  buildings: ComplianceRow[];
  coldestUnits: ColdUnitRow[];
}
export interface CompliancePort {
  report(fromMs: number, toMs: number): Promise<ComplianceReport>;
}

/** What engineers may see and try: the config in force and a dry run of the rules. */
export interface EngineerPort {
  configSummary(): { version: string; site: string; files: Record<string, unknown> };
  dryRun?(): Promise<{ findings: Array<Record<string, unknown>> }>;
}

export type { HouseholdsPort };

/** Everything the HTTP app is built from. Optional ports switch their routes to 503 when absent. */
export interface HttpDeps {
  clock: Clock;
  /** Timers of the transport (SSE coalescing, heartbeats) run in wall time, not heating time. */
  wallClock: Clock;
  bus: EventBus<HeatEvents>;
  live: LiveView;
  buildingState?: BuildingStateView;
  tickets?: TicketsPort;
  history?: HistoryPort;
  metrics?: MetricsPort;
  health?: HealthPort;
  manual?: ManualReadingSink;
  compliance?: CompliancePort;
  engineer?: EngineerPort;
  /** Cases, complaints, measurements, work orders (docs/households.md); absent: no such routes. */
  households?: HouseholdsPort;
}
