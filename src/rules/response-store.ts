import type Database from 'better-sqlite3';
import type { Db, Migration } from '../storage/sqlite.ts';
import type { LearntPosition, LearntResponse, ResponseStore } from './ports.ts';

/**
 * The learnt responses get their own table in the ops database: what the engine learns is the
 * engine's, not the tickets'. The first step carries over what the ticket store had learnt.
 */
export const responseMigrations: readonly Migration[] = [
  {
    id: 'rules-002',
    sql: `CREATE TABLE rules_response (
      target_id          TEXT PRIMARY KEY,
      gain_c_per_c       REAL,
      valve_gain_c_per_pct REAL,
      lag_h              REAL,
      samples            INTEGER NOT NULL DEFAULT 0,
      updated_ts         INTEGER NOT NULL
    );
    INSERT OR IGNORE INTO rules_response
      SELECT target_id, gain_c_per_c, valve_gain, lag_h, samples, updated_ts FROM ticket_response;`,
  },
  {
    // Each building's own position effect (issue #11 §2), learnt from its hourly gaps.
    id: 'rules-003',
    sql: `ALTER TABLE rules_response ADD COLUMN position_gap_c REAL;
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

  savePositions(rows: ReadonlyArray<{ targetId: string; position: LearntPosition }>): void {
    for (const r of rows) this.rows.set(r.targetId, { ...this.get(r.targetId), position: { ...r.position } });
  }
}

interface Row {
  gain_c_per_c: number | null;
  valve_gain_c_per_pct: number | null;
  lag_h: number | null;
  samples: number;
  position_gap_c: number | null;
  position_samples: number;
}

/** Keeps learnt responses in the ops database (opened with `rulesMigrations`). */
export class SqliteResponseStore implements ResponseStore {
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  get(targetId: string): LearntResponse {
    const r = this.stmt('SELECT * FROM rules_response WHERE target_id = ?').get(targetId) as Row | undefined;
    if (!r) return { samples: 0 };
    return {
      gainCPerC: r.gain_c_per_c ?? undefined,
      valveGainCPerPct: r.valve_gain_c_per_pct ?? undefined,
      lagH: r.lag_h ?? undefined,
      samples: r.samples,
      position:
        r.position_gap_c === null ? undefined : { gapC: r.position_gap_c, samples: r.position_samples },
    };
  }

  save(targetId: string, v: Omit<LearntResponse, 'samples' | 'position'>): void {
    const cur = this.get(targetId);
    this.stmt(
      `INSERT INTO rules_response (target_id, gain_c_per_c, valve_gain_c_per_pct, lag_h, samples, updated_ts)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (target_id) DO UPDATE SET gain_c_per_c = excluded.gain_c_per_c,
       valve_gain_c_per_pct = excluded.valve_gain_c_per_pct, lag_h = excluded.lag_h,
       samples = excluded.samples, updated_ts = excluded.updated_ts`,
    ).run(
      targetId,
      v.gainCPerC ?? cur.gainCPerC ?? null,
      v.valveGainCPerPct ?? cur.valveGainCPerPct ?? null,
      v.lagH ?? cur.lagH ?? null,
      cur.samples + 1,
      this.now(),
    );
  }

  /** One transaction for the hour's position effects (one fsync, however many buildings). */
  savePositions(rows: ReadonlyArray<{ targetId: string; position: LearntPosition }>): void {
    if (rows.length === 0) return;
    const st = this.stmt(
      `INSERT INTO rules_response (target_id, position_gap_c, position_samples, updated_ts) VALUES (?, ?, ?, ?)
       ON CONFLICT (target_id) DO UPDATE SET position_gap_c = excluded.position_gap_c,
       position_samples = excluded.position_samples, updated_ts = excluded.updated_ts`,
    );
    const ts = this.now();
    this.db.transaction(() => {
      for (const r of rows) st.run(r.targetId, r.position.gapC, r.position.samples, ts);
    })();
  }

  private stmt(sql: string): Database.Statement<unknown[]> {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }
}
