import type { SqlMigration } from '../storage/sql-migrate.ts';

/** What differs between the dialects in the households tables; the rest is one text. */
interface Types {
  /** Epoch milliseconds: SQLite's INTEGER is 64-bit, PostgreSQL's is not. */
  time: string;
  /** An ascending key the database assigns (case events are read in its order). */
  serialKey: string;
  /** The outbox's insertion order: SQLite has its rowid, PostgreSQL gets a column. */
  outboxSeq: string;
}

/**
 * A case and its event history: what the supervision list shows (docs/domain.md "Households,
 * complaints and supervision").
 */
const cases = (t: Types) => `      CREATE TABLE hh_cases (
        id            TEXT PRIMARY KEY,
        unit_key      TEXT NOT NULL,
        state         TEXT NOT NULL,
        substation_id TEXT NOT NULL,
        building_id   TEXT NOT NULL,
        opened_ts     ${t.time} NOT NULL,
        updated_ts    ${t.time} NOT NULL,
        due_ts        ${t.time} NOT NULL,
        closed_ts     ${t.time},
        body          TEXT NOT NULL
      );
      CREATE UNIQUE INDEX hh_cases_one_open ON hh_cases (unit_key) WHERE state <> 'closed';
      CREATE INDEX hh_cases_state ON hh_cases (state, substation_id);
      CREATE INDEX hh_cases_opened ON hh_cases (opened_ts);
      CREATE TABLE hh_case_events (
        id         ${t.serialKey},
        case_id    TEXT NOT NULL REFERENCES hh_cases (id),
        ts         ${t.time} NOT NULL,
        actor      TEXT NOT NULL,
        kind       TEXT NOT NULL,
        from_state TEXT,
        to_state   TEXT,
        note       TEXT
      );
      CREATE INDEX hh_case_events_case ON hh_case_events (case_id, id);
`;

/** What a case collects from the field: complaints, tasks and in-home measurements. */
const fieldWork = (t: Types) => `      CREATE TABLE hh_complaints (
        id            TEXT PRIMARY KEY,
        case_id       TEXT,
        unit_key      TEXT NOT NULL,
        building_id   TEXT NOT NULL,
        substation_id TEXT NOT NULL,
        received_ts   ${t.time} NOT NULL,
        body          TEXT NOT NULL
      );
      CREATE INDEX hh_complaints_received ON hh_complaints (received_ts);
      CREATE INDEX hh_complaints_case ON hh_complaints (case_id);
      CREATE TABLE hh_tasks (
        id      TEXT PRIMARY KEY,
        case_id TEXT NOT NULL REFERENCES hh_cases (id),
        state   TEXT NOT NULL,
        due_ts  ${t.time} NOT NULL,
        body    TEXT NOT NULL
      );
      CREATE INDEX hh_tasks_state ON hh_tasks (state, due_ts);
      CREATE INDEX hh_tasks_case ON hh_tasks (case_id);
      CREATE TABLE hh_measurements (
        id        TEXT PRIMARY KEY,
        unit_key  TEXT NOT NULL,
        sensor_id TEXT,
        case_id   TEXT,
        ts        ${t.time} NOT NULL,
        body      TEXT NOT NULL
      );
      CREATE INDEX hh_measurements_unit ON hh_measurements (unit_key, ts);
      CREATE INDEX hh_measurements_sensor ON hh_measurements (sensor_id, ts);
`;

/** Work orders and the outbox that delivers them. */
const dispatch = (t: Types) => `      CREATE TABLE hh_work_orders (
        id         TEXT PRIMARY KEY,
        case_id    TEXT,
        state      TEXT NOT NULL,
        created_ts ${t.time} NOT NULL,
        body       TEXT NOT NULL
      );
      CREATE INDEX hh_work_orders_case ON hh_work_orders (case_id);
      CREATE INDEX hh_work_orders_created ON hh_work_orders (created_ts);
      CREATE TABLE hh_outbox (${t.outboxSeq}
        id           TEXT PRIMARY KEY,
        kind         TEXT NOT NULL,
        body         TEXT NOT NULL,
        created_ts   ${t.time} NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_ts      ${t.time} NOT NULL,
        delivered_ts ${t.time},
        dead_ts      ${t.time},
        last_error   TEXT
      );
      CREATE INDEX hh_outbox_pending ON hh_outbox (delivered_ts, dead_ts, next_ts);
`;

/** The published bulletins. */
const bulletins = (t: Types) => `      CREATE TABLE hh_bulletins (
        id      TEXT PRIMARY KEY,
        kind    TEXT NOT NULL,
        ts      ${t.time} NOT NULL,
        body    TEXT NOT NULL
      );
      CREATE INDEX hh_bulletins_ts ON hh_bulletins (kind, ts);
`;

/**
 * The groups joined give the text deployed databases recorded for households-001, byte for byte
 * (test/storage/recorded-migrations.test.ts holds it).
 */
const households001 = (t: Types) => `
${cases(t)}${fieldWork(t)}${dispatch(t)}${bulletins(t)}`;

/**
 * Several instances on one database (docs/households.md "Several instances"): a row version on the
 * records decisions change, so a decision made on a version another instance has changed since is
 * refused and made again on the new one; and one row per scheduled run (digest, bulletin), written
 * with the run's reports, so each run is made once however many instances fire it.
 */
const households002 = (t: Types) => `
      ALTER TABLE hh_cases ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE hh_tasks ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE hh_work_orders ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE hh_job_runs (
        job     TEXT NOT NULL,
        slot_ts ${t.time} NOT NULL,
        ran_ts  ${t.time} NOT NULL,
        PRIMARY KEY (job, slot_ts)
      );
`;

const SQLITE: Types = { time: 'INTEGER', serialKey: 'INTEGER PRIMARY KEY AUTOINCREMENT', outboxSeq: '' };
const POSTGRES: Types = {
  time: 'BIGINT',
  serialKey: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
  outboxSeq: '\n        seq          BIGINT GENERATED ALWAYS AS IDENTITY,',
};

/**
 * The households tables in the ops database (FULL sync: a complaint taken on the phone must survive a
 * power cut). Each row keeps its record as JSON plus the columns queries filter on. The partial
 * unique index makes "one open case per unit" a database fact, like tickets' one open ticket.
 * The SQLite half of households-001 is the schema earlier releases applied, so their ops.db files
 * open unchanged (test/households/store.test.ts opens one).
 */
export const householdsMigrations: readonly SqlMigration[] = [
  { id: 'households-001', sqlite: households001(SQLITE), postgres: households001(POSTGRES) },
  { id: 'households-002', sqlite: households002(SQLITE), postgres: households002(POSTGRES) },
];
