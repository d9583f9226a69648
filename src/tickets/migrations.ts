import { type SqlMigration, sqliteMigrations } from '../storage/sql-migrate.ts';
import type { Migration } from '../storage/sqlite.ts';

/** What differs between the dialects in the tickets tables; the rest is one text. */
interface Types {
  /** Epoch milliseconds and sequence numbers: SQLite's INTEGER is 64-bit, PostgreSQL's is not. */
  int64: string;
  /** An ascending key the database assigns (events and outbox rows are read in its order). */
  serialKey: string;
  /** Fitted response gains: SQLite names its 8-byte float REAL, PostgreSQL DOUBLE PRECISION. */
  real: string;
  /** PostgreSQL draws ticket numbers from a sequence; SQLite takes the next one in the transaction. */
  ticketSeq: string;
}

const SQLITE: Types = {
  int64: 'INTEGER',
  serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  real: 'REAL',
  ticketSeq: '',
};
const POSTGRES: Types = {
  int64: 'BIGINT',
  serialKey: 'BIGSERIAL PRIMARY KEY',
  real: 'DOUBLE PRECISION',
  ticketSeq: '\n      CREATE SEQUENCE ticket_seq;',
};

/** One schema step written once, in both dialects. */
const step = (id: string, sql: (t: Types) => string): SqlMigration => ({
  id,
  sqlite: sql(SQLITE),
  postgres: sql(POSTGRES),
});

const tickets001 = (t: Types) => `${t.ticketSeq}
      CREATE TABLE tickets (
        id                 TEXT PRIMARY KEY,
        seq                ${t.int64} NOT NULL UNIQUE,
        status             TEXT NOT NULL,
        problem            TEXT NOT NULL,
        target_kind        TEXT NOT NULL,
        target_id          TEXT NOT NULL,
        substation_id      TEXT NOT NULL,
        body               TEXT NOT NULL,
        created_ts         ${t.int64} NOT NULL,
        updated_ts         ${t.int64} NOT NULL,
        applied_ts         ${t.int64},
        not_before_ts      ${t.int64},
        auto_apply         INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX tickets_one_open ON tickets (target_id, problem)
        WHERE status IN ('proposed', 'approved', 'applied', 'rechecking');
      CREATE INDEX tickets_status ON tickets (status, substation_id);
      CREATE INDEX tickets_target ON tickets (target_id, problem, seq);
      CREATE TABLE ticket_events (
        id          ${t.serialKey},
        ticket_id   TEXT NOT NULL REFERENCES tickets (id),
        ts          ${t.int64} NOT NULL,
        actor       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        from_status TEXT,
        to_status   TEXT,
        reason      TEXT
      );
      CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
      CREATE TABLE ticket_rechecks (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets (id),
        due_ts    ${t.int64} NOT NULL,
        done_ts   ${t.int64},
        outcome   TEXT
      );
      CREATE INDEX ticket_rechecks_due ON ticket_rechecks (done_ts, due_ts);
      CREATE TABLE ticket_setpoints (
        substation_id TEXT PRIMARY KEY,
        body          TEXT NOT NULL,
        ticket_id     TEXT,
        ts            ${t.int64} NOT NULL
      );
      CREATE TABLE ticket_response (
        target_id         TEXT PRIMARY KEY,
        gain_c_per_c      ${t.real},
        valve_gain        ${t.real},
        lag_h             ${t.real},
        samples           INTEGER NOT NULL DEFAULT 0,
        updated_ts        ${t.int64} NOT NULL
      );
    `;

/**
 * The operational tables of tickets, in both dialects of the ops database (docs/architecture.md
 * decision 3: what must survive a restart lives in a database). Re-checks are rows, not timers, so
 * one that fell due while heatwatch was down still runs. The partial unique index makes "one open
 * ticket per (target, problem)" a database fact, which holds when several instances write.
 * Timestamps are epoch milliseconds: BIGINT on PostgreSQL. Each step's text is what deployed
 * databases recorded, byte for byte (test/storage/recorded-migrations.test.ts holds it).
 */
export const ticketSqlMigrations: readonly SqlMigration[] = [
  step('tickets-001', tickets001),
  // The setpoint outbox (docs/rules.md "Setpoint commands"): a command row commits with the ticket
  // change that causes it; published_ts stays NULL until the broker acknowledged it.
  step(
    'tickets-002',
    (t) => `
      CREATE TABLE setpoint_outbox (
        seq           ${t.serialKey},
        command_id    TEXT NOT NULL UNIQUE,
        ticket_id     TEXT NOT NULL REFERENCES tickets (id),
        substation_id TEXT NOT NULL,
        payload       TEXT NOT NULL,
        created_ts    ${t.int64} NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        published_ts  ${t.int64},
        confirm_state TEXT NOT NULL DEFAULT 'awaiting',
        confirm_ts    ${t.int64},
        reported      TEXT
      );
      CREATE INDEX setpoint_outbox_pending ON setpoint_outbox (published_ts, seq);
      CREATE INDEX setpoint_outbox_ticket ON setpoint_outbox (ticket_id, seq);
    `,
  ),
  // Claims across instances (issue #16): a due re-check and a pending setpoint command are taken by
  // one instance at a time; a claim whose holder died lapses at claimed_until.
  step(
    'tickets-003',
    (t) => `
      ALTER TABLE ticket_rechecks ADD COLUMN claimed_by TEXT;
      ALTER TABLE ticket_rechecks ADD COLUMN claimed_until ${t.int64};
      ALTER TABLE setpoint_outbox ADD COLUMN claimed_by TEXT;
      ALTER TABLE setpoint_outbox ADD COLUMN claimed_until ${t.int64};
    `,
  ),
];

/** The SQLite halves, for the synchronous `openOpsDb` path (main passes them in its list). */
export const ticketMigrations: readonly Migration[] = sqliteMigrations(ticketSqlMigrations);
