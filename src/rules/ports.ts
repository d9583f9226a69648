import type { Problem, Proposal, SetpointInForce, Ticket, TicketFilter } from '../tickets/types.ts';

/** What a proposal handed to the ticket store became. */
export interface ProposeOutcome {
  outcome: 'created' | 'updated' | 'suppressed' | 'flapping';
  ticket: Ticket;
}

/**
 * The narrow part of the ticket service the rules engine uses (docs/architecture.md: rules see
 * ports, never adapters). `TicketService` satisfies it structurally; a rules test can hand in an
 * in-memory fake and needs no SQLite. Every call is async: the tickets may live in a database
 * server (PostgreSQL) shared by several instances, and a call may reject while it is unreachable.
 */
export interface TicketPort {
  list(filter?: TicketFilter): Promise<Ticket[]>;
  openFor(targetId: string, problem: Problem): Promise<Ticket | undefined>;
  /** Open tickets whose adjustment is settling (applied, waiting for its re-check). */
  settling(): Promise<Ticket[]>;
  setpointOf(substationId: string): Promise<SetpointInForce>;
  /** Every setpoint heatwatch has put in force, by substation (one read per tick; absent: neutral). */
  setpoints(): Promise<ReadonlyMap<string, SetpointInForce>>;
  propose(p: Proposal, opts?: { flapping?: boolean }): Promise<ProposeOutcome>;
  noteSuppressed(targetId: string, problem: Problem, reason: string): Promise<void>;
  supersede(id: string, actor: string, reason: string): Promise<void>;
  /**
   * Moves an open pre-heat's end (its re-check, which takes the extra offset off, follows) and
   * records why on the ticket as an event of `kind` (extended, shortened, cancelled).
   */
  revisePreheat(id: string, untilTs: number, kind: string, reason: string): Promise<void>;
  /** Brings a settling ticket's re-check forward to `dueTs` (never later), with the reason as an event. */
  advanceRecheck(id: string, dueTs: number, reason: string): Promise<void>;
  /** Applies auto-approved tickets whose time has come; returns their ids. */
  applyDue(): Promise<string[]>;
}

/** What the engine has learnt of one target's response (absent fields: not learnt yet). */
export interface LearntResponse {
  gainCPerC?: number;
  valveGainCPerPct?: number;
  lagH?: number;
  /** How many observations went into it (gain, valve gain, lag). */
  samples: number;
  /** A building's own normal middle − exposed gap, °C, and how many hourly gaps went into it. */
  position?: LearntPosition;
}

/** A building's own position effect: the mean of its healthy hourly gaps (docs/rules.md). */
export interface LearntPosition {
  gapC: number;
  samples: number;
}

/** Where the response learner keeps what it learnt, so a restart keeps it. */
export interface ResponseStore {
  get(targetId: string): LearntResponse;
  save(targetId: string, v: Omit<LearntResponse, 'samples' | 'position'>): void;
  /** Stores the position effects learnt since the last call, all in one write. */
  savePositions(rows: ReadonlyArray<{ targetId: string; position: LearntPosition }>): void;
}
