import type Database from 'better-sqlite3';
import type { Db, Migration } from '../storage/sqlite.ts';
import type { LearntResponse, ResponseStore } from './ports.ts';

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
];

/** Keeps learnt responses in memory (tests, dry runs, the twin). */
export class MemoryResponseStore implements ResponseStore {
  private readonly rows = new Map<string, LearntResponse>();

  get(targetId: string): LearntResponse {
    return { ...(this.rows.get(targetId) ?? { samples: 0 }) };
  }

  save(targetId: string, v: Omit<LearntResponse, 'samples'>): void {
    const cur = this.get(targetId);
    this.rows.set(targetId, {
      gainCPerC: v.gainCPerC ?? cur.gainCPerC,
      valveGainCPerPct: v.valveGainCPerPct ?? cur.valveGainCPerPct,
      lagH: v.lagH ?? cur.lagH,
      samples: cur.samples + 1,
    });
  }
}

interface Row {
  gain_c_per_c: number | null;
  valve_gain_c_per_pct: number | null;
  lag_h: number | null;
  samples: number;
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
    };
  }

  save(targetId: string, v: Omit<LearntResponse, 'samples'>): void {
    const cur = this.get(targetId);
    this.stmt(
      'INSERT OR REPLACE INTO rules_response (target_id, gain_c_per_c, valve_gain_c_per_pct, lag_h, samples, updated_ts) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(
      targetId,
      v.gainCPerC ?? cur.gainCPerC ?? null,
      v.valveGainCPerPct ?? cur.valveGainCPerPct ?? null,
      v.lagH ?? cur.lagH ?? null,
      cur.samples + 1,
      this.now(),
    );
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
