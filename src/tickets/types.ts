import type { TargetKind } from '../rules/types.ts';

/** The ticket lifecycle (issue #4): proposed → approved → applied → rechecking → resolved, or out. */
export type TicketStatus =
  | 'proposed'
  | 'approved'
  | 'applied'
  | 'rechecking'
  | 'resolved'
  | 'escalated'
  | 'rejected'
  | 'superseded';

export const OPEN_STATUSES: readonly TicketStatus[] = ['proposed', 'approved', 'applied', 'rechecking'];
/** While an adjustment settles, the same problem on the same target is suppressed, visibly. */
export const SETTLING_STATUSES: readonly TicketStatus[] = ['applied', 'rechecking'];

/** What a ticket is about; one open ticket per (target, problem). */
export type Problem =
  | 'substation_cold'
  | 'curve_slope'
  | 'building_cold'
  | 'exposed_cold'
  | 'overheat'
  | 'building_overheat'
  | 'cold_spell'
  | 'coverage'
  | 'sensor_fault'
  /** A substation's measured supply does not follow its curve and setpoint (docs/rules.md). */
  | 'supply_tracking';

/** The change a ticket proposes. Setpoints have absolute semantics on the wire; actions are steps. */
export type Action =
  | { kind: 'supply-offset'; deltaC: number }
  | { kind: 'slope'; delta: number }
  | { kind: 'valves'; valves: Record<string, number>; previous: Record<string, number> }
  | { kind: 'preheat'; offsetC: number; untilTs: number }
  | { kind: 'field'; task: string };

export interface Prediction {
  /** Expected change of the target's class-weighted mean, °C, once settled. */
  deltaC: number;
  expectedC: number;
  /** Hours until most of the effect is there (the response lag). */
  afterH: number;
  text: string;
}

/** What the target measured when the action was proposed/applied, for the re-check comparison. */
export interface Baseline {
  valueC: number;
  outdoorC?: number;
  ts: number;
}

export interface Proposal {
  problem: Problem;
  targetKind: TargetKind;
  targetId: string;
  substationId: string;
  /** Rules that fired, with their thresholds (in evidence). */
  rules: string[];
  summary: string;
  evidence: Record<string, unknown>;
  action: Action;
  predicted: Prediction;
  baseline: Baseline;
  /** Apply no earlier than this (pre-heating waits for its lead time). */
  notBeforeTs?: number;
  /** Small and safe by the auto-approve policy. */
  autoApprovable: boolean;
  parentId?: string;
  escalations?: number;
}

export interface Ticket extends Proposal {
  id: string;
  status: TicketStatus;
  createdTs: number;
  updatedTs: number;
  appliedTs?: number;
  recheckDueTs?: number;
  /** Times the condition was seen again while this ticket was open. */
  occurrences: number;
  flapping: boolean;
  suppressedCount: number;
  lastSuppressedTs?: number;
  suppressedReason?: string;
  autoApply: boolean;
  setpointBefore?: SetpointInForce;
  setpointAfter?: SetpointInForce;
  outcome?: RecheckOutcome;
}

export interface TicketEvent {
  ticketId: string;
  ts: number;
  actor: string;
  kind: string;
  fromStatus?: TicketStatus;
  toStatus?: TicketStatus;
  reason?: string;
}

/** The settings heatwatch keeps in force per substation (absolute, as the setpoint payload says). */
export interface SetpointInForce {
  supplyOffsetC: number;
  slopeDelta: number;
  /** Temporary extra offset while a forecast cold spell is pre-heated. */
  preheatOffsetC: number;
  buildingValves: Record<string, number>;
}

export const NEUTRAL_SETPOINT: SetpointInForce = {
  supplyOffsetC: 0,
  slopeDelta: 0,
  preheatOffsetC: 0,
  buildingValves: {},
};

/** The retained QoS 1 payload on heat/substations/{id}/setpoint (docs/architecture.md "The contract"). */
export interface SetpointPayload {
  /**
   * The command's id, the same on every attempt: a controller reports it back once the setpoint is
   * in force (confirmation) and can tell a repeated delivery from a new command.
   */
  setpointId: string;
  ticketId: string;
  supplyOffset: number;
  slopeDelta?: number;
  buildingValves?: Record<string, number>;
  ts: number;
}

/** The port the MQTT client implements: publish retained, QoS 1; resolves once the broker has it. */
export interface SetpointPublisher {
  publish(substationId: string, payload: SetpointPayload): Promise<void>;
}

export interface RecheckOutcome {
  ts: number;
  resolved: boolean;
  measuredC: number;
  baselineC: number;
  /** Change of the target, corrected for the outdoor temperature change since the baseline. */
  correctedDeltaC: number;
  predictedDeltaC: number;
  outdoorNowC?: number;
  observedGain?: number;
  /** Not judged: too few fresh readings in the window; the re-check runs again at this time. */
  deferredUntilTs?: number;
  /** Pre-heating: whether the forecast cold came (judged on the observed outdoor temperature). */
  coldArrived?: boolean;
  /**
   * Heat the substation's meter recorded over `windowH` before the action and over the `windowH`
   * before the re-check, with each window's mean outdoor temperature (issue #11 §2).
   */
  heat?: {
    substationId: string;
    windowH: number;
    beforeKWh?: number;
    afterKWh?: number;
    beforeOutdoorC?: number;
    afterOutdoorC?: number;
  };
  text: string;
}

export interface TicketFilter {
  status?: TicketStatus | 'open';
  substationId?: string;
  targetId?: string;
  problem?: Problem;
}
