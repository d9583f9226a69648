import { type SqlMigration, sqliteMigrations } from '../storage/sql-migrate.ts';
import type { Migration } from '../storage/sqlite.ts';

/**
 * The operational tables of tickets, in both dialects of the ops database (docs/architecture.md
 * decision 3: what must survive a restart lives in a database). Re-checks are rows, not timers, so
 * one that fell due while heatwatch was down still runs. The partial unique index makes "one open
 * ticket per (target, problem)" a database fact, which holds when several instances write.
 * Timestamps are epoch milliseconds: BIGINT on PostgreSQL.
 */
export const ticketSqlMigrations: readonly SqlMigration[] = [
  {
    id: 'tickets-001',
    sqlite: `
      CREATE TABLE tickets (
        id                 TEXT PRIMARY KEY,
        seq                INTEGER NOT NULL UNIQUE,
        status             TEXT NOT NULL,
        problem            TEXT NOT NULL,
        target_kind        TEXT NOT NULL,
        target_id          TEXT NOT NULL,
        substation_id      TEXT NOT NULL,
        body               TEXT NOT NULL,
        created_ts         INTEGER NOT NULL,
        updated_ts         INTEGER NOT NULL,
        applied_ts         INTEGER,
        not_before_ts      INTEGER,
        auto_apply         INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX tickets_one_open ON tickets (target_id, problem)
        WHERE status IN ('proposed', 'approved', 'applied', 'rechecking');
      CREATE INDEX tickets_status ON tickets (status, substation_id);
      CREATE INDEX tickets_target ON tickets (target_id, problem, seq);
      CREATE TABLE ticket_events (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id   TEXT NOT NULL REFERENCES tickets (id),
        ts          INTEGER NOT NULL,
        actor       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        from_status TEXT,
        to_status   TEXT,
        reason      TEXT
      );
      CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
      CREATE TABLE ticket_rechecks (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets (id),
        due_ts    INTEGER NOT NULL,
        done_ts   INTEGER,
        outcome   TEXT
      );
      CREATE INDEX ticket_rechecks_due ON ticket_rechecks (done_ts, due_ts);
      CREATE TABLE ticket_setpoints (
        substation_id TEXT PRIMARY KEY,
        body          TEXT NOT NULL,
        ticket_id     TEXT,
        ts            INTEGER NOT NULL
      );
      CREATE TABLE ticket_response (
        target_id         TEXT PRIMARY KEY,
        gain_c_per_c      REAL,
        valve_gain        REAL,
        lag_h             REAL,
        samples           INTEGER NOT NULL DEFAULT 0,
        updated_ts        INTEGER NOT NULL
      );
    `,
    postgres: `
      CREATE SEQUENCE ticket_seq;
      CREATE TABLE tickets (
        id                 TEXT PRIMARY KEY,
        seq                BIGINT NOT NULL UNIQUE,
        status             TEXT NOT NULL,
        problem            TEXT NOT NULL,
        target_kind        TEXT NOT NULL,
        target_id          TEXT NOT NULL,
        substation_id      TEXT NOT NULL,
        body               TEXT NOT NULL,
        created_ts         BIGINT NOT NULL,
        updated_ts         BIGINT NOT NULL,
        applied_ts         BIGINT,
        not_before_ts      BIGINT,
        auto_apply         INTEGER NOT NULL DEFAULT 0
      );
      CREATE UNIQUE INDEX tickets_one_open ON tickets (target_id, problem)
        WHERE status IN ('proposed', 'approved', 'applied', 'rechecking');
      CREATE INDEX tickets_status ON tickets (status, substation_id);
      CREATE INDEX tickets_target ON tickets (target_id, problem, seq);
      CREATE TABLE ticket_events (
        id          BIGSERIAL PRIMARY KEY,
        ticket_id   TEXT NOT NULL REFERENCES tickets (id),
        ts          BIGINT NOT NULL,
        actor       TEXT NOT NULL,
        kind        TEXT NOT NULL,
        from_status TEXT,
        to_status   TEXT,
        reason      TEXT
      );
      CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
      CREATE TABLE ticket_rechecks (
        ticket_id TEXT PRIMARY KEY REFERENCES tickets (id),
        due_ts    BIGINT NOT NULL,
        done_ts   BIGINT,
        outcome   TEXT
      );
      CREATE INDEX ticket_rechecks_due ON ticket_rechecks (done_ts, due_ts);
      CREATE TABLE ticket_setpoints (
        substation_id TEXT PRIMARY KEY,
        body          TEXT NOT NULL,
        ticket_id     TEXT,
        ts            BIGINT NOT NULL
      );
      CREATE TABLE ticket_response (
        target_id         TEXT PRIMARY KEY,
        gain_c_per_c      DOUBLE PRECISION,
        valve_gain        DOUBLE PRECISION,
        lag_h             DOUBLE PRECISION,
        samples           INTEGER NOT NULL DEFAULT 0,
        updated_ts        BIGINT NOT NULL
      );
    `,
  },
  {
    // The setpoint outbox (docs/rules.md "Setpoint commands"): a command row commits with the ticket
    // change that causes it; published_ts stays NULL until the broker acknowledged it.
    id: 'tickets-002',
    sqlite: `
      CREATE TABLE setpoint_outbox (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        command_id    TEXT NOT NULL UNIQUE,
        ticket_id     TEXT NOT NULL REFERENCES tickets (id),
        substation_id TEXT NOT NULL,
        payload       TEXT NOT NULL,
        created_ts    INTEGER NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        published_ts  INTEGER,
        confirm_state TEXT NOT NULL DEFAULT 'awaiting',
        confirm_ts    INTEGER,
        reported      TEXT
      );
      CREATE INDEX setpoint_outbox_pending ON setpoint_outbox (published_ts, seq);
      CREATE INDEX setpoint_outbox_ticket ON setpoint_outbox (ticket_id, seq);
    `,
    postgres: `
      CREATE TABLE setpoint_outbox (
        seq           BIGSERIAL PRIMARY KEY,
        command_id    TEXT NOT NULL UNIQUE,
        ticket_id     TEXT NOT NULL REFERENCES tickets (id),
        substation_id TEXT NOT NULL,
        payload       TEXT NOT NULL,
        created_ts    BIGINT NOT NULL,
        attempts      INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        published_ts  BIGINT,
        confirm_state TEXT NOT NULL DEFAULT 'awaiting',
        confirm_ts    BIGINT,
        reported      TEXT
      );
      CREATE INDEX setpoint_outbox_pending ON setpoint_outbox (published_ts, seq);
      CREATE INDEX setpoint_outbox_ticket ON setpoint_outbox (ticket_id, seq);
    `,
  },
  {
    // Claims across instances (issue #16): a due re-check and a pending setpoint command are taken by
    // one instance at a time; a claim whose holder died lapses at claimed_until.
    id: 'tickets-003',
    sqlite: `
      ALTER TABLE ticket_rechecks ADD COLUMN claimed_by TEXT;
      ALTER TABLE ticket_rechecks ADD COLUMN claimed_until INTEGER;
      ALTER TABLE setpoint_outbox ADD COLUMN claimed_by TEXT;
      ALTER TABLE setpoint_outbox ADD COLUMN claimed_until INTEGER;
    `,
    postgres: `
      ALTER TABLE ticket_rechecks ADD COLUMN claimed_by TEXT;
      ALTER TABLE ticket_rechecks ADD COLUMN claimed_until BIGINT;
      ALTER TABLE setpoint_outbox ADD COLUMN claimed_by TEXT;
      ALTER TABLE setpoint_outbox ADD COLUMN claimed_until BIGINT;
    `,
  },
];

/** The SQLite halves, for the synchronous `openOpsDb` path (main passes them in its list). */
export const ticketMigrations: readonly Migration[] = sqliteMigrations(ticketSqlMigrations);
