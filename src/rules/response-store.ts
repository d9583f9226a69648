import type { SqlExecutor } from '../storage/sql.ts';
import type { SqlMigration } from '../storage/sql-migrate.ts';
import type { LearntPosition, LearntResponse, ResponseStore } from './ports.ts';

/**
 * The learnt responses get their own table in the ops database: what the engine learns is the
 * engine's, not the tickets'. The first step carries over what the ticket store had learnt.
 */
export const responseMigrations: readonly SqlMigration[] = [
  {
    id: 'rules-002',
    sqlite: `CREATE TABLE rules_response (
      target_id          TEXT PRIMARY KEY,
      gain_c_per_c       REAL,
      valve_gain_c_per_pct REAL,
      lag_h              REAL,
      samples            INTEGER NOT NULL DEFAULT 0,
      updated_ts         INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO rules_response
      SELECT target_id, gain_c_per_c, valve_gain, lag_h, samples, updated_ts FROM ticket_response;`,
    postgres: `CREATE TABLE rules_response (
      target_id            TEXT PRIMARY KEY,
      gain_c_per_c         DOUBLE PRECISION,
      valve_gain_c_per_pct DOUBLE PRECISION,
      lag_h                DOUBLE PRECISION,
      samples              INTEGER NOT NULL DEFAULT 0,
      updated_ts           BIGINT NOT NULL
    );`,
  },
  {
    // Each building's own position effect (issue #11 §2), learnt from its hourly gaps.
    id: 'rules-003',
    sqlite: `ALTER TABLE rules_response ADD COLUMN position_gap_c REAL;
    ALTER TABLE rules_response ADD COLUMN position_samples INTEGER NOT NULL DEFAULT 0;`,
    postgres: `ALTER TABLE rules_response ADD COLUMN position_gap_c DOUBLE PRECISION;
    ALTER TABLE rules_response ADD COLUMN position_samples INTEGER NOT NULL DEFAULT 0;`,
  },
];

/** Keeps learnt responses in memory (tests, dry runs, the twin). */
export class MemoryResponseStore implements ResponseStore {
  private readonly rows = new Map<string, LearntResponse>();

  get(targetId: string): LearntResponse {
    return { ...(this.rows.get(targetId) ?? { samples: 0 }) };
  }

  save(targetId: string, v: Omit<LearntResponse, 'samples' | 'position'>): void {
    const cur = this.get(targetId);
    this.rows.set(targetId, {
      ...cur,
      gainCPerC: v.gainCPerC ?? cur.gainCPerC,
      valveGainCPerPct: v.valveGainCPerPct ?? cur.valveGainCPerPct,
      lagH: v.lagH ?? cur.lagH,
      samples: cur.samples + 1,
    });
  }

  /** Sets what is known of a target as a whole (a store loading what it kept). */
  put(targetId: string, v: LearntResponse): void {
    this.rows.set(targetId, { ...v });
  }

  savePositions(rows: ReadonlyArray<{ targetId: string; position: LearntPosition }>): void {
    for (const r of rows) this.rows.set(r.targetId, { ...this.get(r.targetId), position: { ...r.position } });
  }
}

interface Row {
  target_id: string;
  gain_c_per_c: number | null;
  valve_gain_c_per_pct: number | null;
  lag_h: number | null;
  samples: number;
  position_gap_c: number | null;
  position_samples: number;
}

const UPSERT_RESPONSE = `INSERT INTO rules_response (target_id, gain_c_per_c, valve_gain_c_per_pct, lag_h, samples, updated_ts)
  VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (target_id) DO UPDATE SET gain_c_per_c = excluded.gain_c_per_c,
  valve_gain_c_per_pct = excluded.valve_gain_c_per_pct, lag_h = excluded.lag_h,
  samples = excluded.samples, updated_ts = excluded.updated_ts`;

const UPSERT_POSITION = `INSERT INTO rules_response (target_id, position_gap_c, position_samples, updated_ts) VALUES (?, ?, ?, ?)
  ON CONFLICT (target_id) DO UPDATE SET position_gap_c = excluded.position_gap_c,
  position_samples = excluded.position_samples, updated_ts = excluded.updated_ts`;

/**
 * Keeps learnt responses in the ops database (SQLite or PostgreSQL, opened with `rulesMigrations`).
 * The learner reads them synchronously inside a tick, so they are held in memory: `load()` reads
 * them at start, a save updates memory at once and writes behind, in order; `flush()` waits for the
 * writes (at stop). A write that fails is reported (`onError`) and the value stays in memory.
 */
export class SqlResponseStore implements ResponseStore {
  private readonly mem = new MemoryResponseStore();
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: SqlExecutor & { tx?: <T>(fn: (q: SqlExecutor) => Promise<T>) => Promise<T> },
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  async load(): Promise<void> {
    for (const r of await this.db.all<Row>('SELECT * FROM rules_response'))
      this.mem.put(r.target_id, {
        gainCPerC: r.gain_c_per_c ?? undefined,
        valveGainCPerPct: r.valve_gain_c_per_pct ?? undefined,
        lagH: r.lag_h ?? undefined,
        samples: Number(r.samples),
        position:
          r.position_gap_c === null
            ? undefined
            : { gapC: r.position_gap_c, samples: Number(r.position_samples) },
      });
  }

  get(targetId: string): LearntResponse {
    return this.mem.get(targetId);
  }

  save(targetId: string, v: Omit<LearntResponse, 'samples' | 'position'>): void {
    this.mem.save(targetId, v);
    const n = this.mem.get(targetId);
    const args = [
      targetId,
      n.gainCPerC ?? null,
      n.valveGainCPerPct ?? null,
      n.lagH ?? null,
      n.samples,
      this.now(),
    ];
    this.write((q) => q.run(UPSERT_RESPONSE, args));
  }

  /** One transaction for the hour's position effects (one commit, however many buildings). */
  savePositions(rows: ReadonlyArray<{ targetId: string; position: LearntPosition }>): void {
    if (rows.length === 0) return;
    this.mem.savePositions(rows);
    const ts = this.now();
    const all = rows.map((r) => [r.targetId, r.position.gapC, r.position.samples, ts]);
    this.write(async (q) => {
      for (const args of all) await q.run(UPSERT_POSITION, args);
    }, true);
  }

  /** Resolves once every save so far is written (or has failed and been reported). */
  flush(): Promise<void> {
    return this.writes;
  }

  private write(fn: (q: SqlExecutor) => Promise<unknown>, inTx = false): void {
    const run = () => (inTx && this.db.tx ? this.db.tx(fn) : fn(this.db));
    this.writes = this.writes.then(run).then(() => undefined, this.onError);
  }
}
