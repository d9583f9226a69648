/**
 * What the HTTP layer needs from the rest of heatwatch, as small interfaces (docs/architecture.md
 * "Modules and their ports": `http` reads state through interfaces). main.ts passes the real
 * modules; the route tests pass in-memory fakes.
 */
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { BuildingState, HeatEvents } from '../core/events.ts';
import type { RoomReading } from '../core/readings.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { HouseholdsPort } from '../households/http-port.ts';
import type { BuildingStats, SensorLive, SubstationLive } from '../state/live-state.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import type { SetpointStatus } from '../tickets/confirmation.ts';

export { ROLE_RANK, type Role } from '../core/roles.ts';

/** The live picture, read-only. `LiveState` satisfies it as is. */
export interface LiveView {
  readonly index: RegistryIndex;
  readonly observation?: { stationId: string; ts: number; outdoorTempC: number } | undefined;
  readonly forecast?: {
    stationId: string;
    issued: number;
    points: Array<{ ts: number; outdoorTempC: number }>;
  };
  sensor(id: string): SensorLive | undefined;
  buildingSensors(buildingId: string): SensorLive[];
  buildingStats(buildingId: string, now: number): BuildingStats | undefined;
  substation(id: string): SubstationLive | undefined;
  isFresh(s: SensorLive, now: number): boolean;
}

/**
 * The dashboard colour of a building: the rules' judgement (`RulesEngine.stateOf`, from the findings
 * of the rules that declare a building state). The API judges nothing itself.
 */
export interface BuildingStateView {
  stateOf(buildingId: string): BuildingState;
}

export type TicketAction = 'approve' | 'apply' | 'reject' | 'close';
export const TICKET_ACTIONS: readonly TicketAction[] = ['approve', 'apply', 'reject', 'close'];

export interface TicketEventView {
  ts: number;
  actor: string;
  /** e.g. `created`, `approved`, `applied`, `recheck`, `note`. */
  kind: string;
  fromStatus?: string;
  toStatus?: string;
  note?: string;
}

/** A ticket as the API shows it; the adapter in main maps the ticket module's own record to this. */
export interface TicketView {
  id: string;
  status: string;
  /** Short code of the finding, e.g. `building_cold`, `substation_cold`, `cold_spell`. */
  problem: string;
  targetKind: 'substation' | 'building' | 'unit';
  targetId: string;
  substationId: string;
  /** The building of a building or unit target (for links and per-building counts). */
  buildingId?: string;
  summary: string;
  /**
   * `key` is the rules' machine name of the fact, `label`/`value` an English rendering; `num` and
   * `unit` let a dashboard format the value for people in their own language.
   */
  evidence: Array<{ key: string; label: string; value: string; num?: number; unit?: EvidenceUnit }>;
  /** The proposed change, in words and in numbers where there are numbers. */
  /** `kind` and `params` are the machine form; `description` an English rendering of them. */
  /** The predicted effect in machine form (the rules' estimate), beside its English text. */
  prediction?: { deltaC: number; afterH: number };
  proposal: {
    kind: 'supply-offset' | 'slope' | 'valves' | 'preheat' | 'field';
    params: Record<string, string | number>;
    description: string;
    supplyOffsetC?: number;
    valvePct?: number;
    supplyTempC?: number;
  };
  predictedEffect: string;
  createdTs: number;
  updatedTs: number;
  /** When the 48 h re-check is due (docs/domain.md), once the adjustment is applied. */
  recheckDueTs?: number;
  /** Actions the ticket's status allows now (the role is checked separately). */
  actions: TicketAction[];
  /** The setpoint command an applied ticket sent, and whether the substation confirmed it. */
  setpoint?: SetpointView;
  events: TicketEventView[];
}

/** What heatwatch sent and what the substation reports in force (they differ until confirmed). */
export type SetpointView = SetpointStatus;

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
/** The unit an evidence value carries, read from the suffix of its key (names carry units). */
export type EvidenceUnit = 'C' | 'pct' | 'h' | 'share';

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
