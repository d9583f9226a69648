import type { SqlDb, SqlExecutor } from '../../src/storage/sql.ts';

const FIRST_CASE_WRITE = /^\s*INSERT INTO hh_cases\b/;

/** One instance's connection as the test sees it: where its transaction's first case write stands. */
interface Side {
  firstId?: string;
  wrote: boolean;
}

/**
 * Steps two instances' decisions through the database in a crossing: each, once its first case row
 * is written, waits until the other's first case row is written as well, so each holds the row the
 * other writes next. A decision whose first row is the one the other holds already waits for that
 * one's commit instead (PostgreSQL holds it on the row lock), and is not held here. No timer: every
 * step waits on the other's progress. `onWrote` tells of each first case write (for a third writer).
 */
export function crossing(onWrote?: (caseId: string) => void) {
  const sides: Side[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const until = async (ok: () => boolean) => {
    while (!ok()) await new Promise<void>((r) => waiters.push(r));
  };

  const gated = (q: SqlExecutor, me: Side, other: () => Side | undefined): SqlExecutor => ({
    dialect: q.dialect,
    all: (sql, params) => q.all(sql, params),
    run: (sql, params) => q.run(sql, params),
    exec: (sql) => q.exec(sql),
    get: async <T>(sql: string, params?: readonly unknown[]) => {
      if (me.firstId !== undefined || !FIRST_CASE_WRITE.test(sql)) return q.get<T>(sql, params);
      me.firstId = String(params?.[0]);
      wake();
      try {
        return await q.get<T>(sql, params);
      } finally {
        me.wrote = true;
        onWrote?.(me.firstId);
        wake();
        await until(() => {
          const o = other();
          return o === undefined || o.wrote || o.firstId === me.firstId;
        });
      }
    },
  });

  /** The instance's database, its transactions stepped in the crossing (at most two instances). */
  const side = (db: SqlDb): SqlDb => {
    const i = sides.length;
    sides.push({ wrote: false });
    const other = () => sides[1 - i];
    return {
      dialect: db.dialect,
      all: (sql, params) => db.all(sql, params),
      get: (sql, params) => db.get(sql, params),
      run: (sql, params) => db.run(sql, params),
      exec: (sql) => db.exec(sql),
      close: () => db.close(),
      tx: (fn) => {
        // A new transaction starts its crossing again.
        sides[i] = { wrote: false };
        return db.tx((q) => fn(gated(q, sides[i]!, other)));
      },
    };
  };
  return { side };
}
