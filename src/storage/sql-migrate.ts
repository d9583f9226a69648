import type { SqlDb } from './sql.ts';
import type { Migration } from './sqlite.ts';

/**
 * A schema step of the operational database in both dialects. Ids are applied once, in the order
 * given, and recorded in `schema_migrations` — the same table `migrate` (src/storage/sqlite.ts) keeps,
 * so an ops.db written by an earlier release knows what it already has.
 */
export interface SqlMigration {
  id: string;
  sqlite: string;
  postgres: string;
}

/**
 * Serialises migrations of every instance starting against one PostgreSQL database (two rules
 * instances of a city start together): a transaction-scoped advisory lock, released at commit.
 */
const MIGRATION_LOCK_KEY = 0x68770001;

/** The SQLite halves, for the synchronous `openDb` path of the ops database. */
export const sqliteMigrations = (ms: readonly SqlMigration[]): Migration[] =>
  ms.map((m) => ({ id: m.id, sql: m.sqlite }));

export interface MigrateOptions {
  /**
   * Refuse a database that records a step this code does not list: a newer release upgraded it,
   * and this older code would write rows the newer one relies on without what it added (a city's
   * instances share one database; docs/deploy.md "Schema upgrades"). Only for the full list of
   * the database's steps, as the ops database's start passes it.
   */
  refuseNewer?: boolean;
}

/**
 * Brings the schema up to date in one transaction: either every pending step is applied and
 * recorded, or none is. Returns the ids applied now.
 */
export async function migrateSql(
  db: SqlDb,
  migrations: readonly SqlMigration[],
  now: () => number = Date.now,
  opts: MigrateOptions = {},
): Promise<string[]> {
  const ids = new Set<string>();
  for (const m of migrations) {
    if (ids.has(m.id)) throw new Error(`migration id '${m.id}' is listed twice`);
    ids.add(m.id);
  }
  return db.tx(async (q) => {
    if (q.dialect === 'postgres') await q.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    await q.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id TEXT PRIMARY KEY,
      applied_at BIGINT NOT NULL
    )`);
    const done = new Set((await q.all<{ id: string }>('SELECT id FROM schema_migrations')).map((r) => r.id));
    const newer = [...done].filter((id) => !ids.has(id));
    if (opts.refuseNewer && newer.length > 0)
      throw new Error(
        `the operational database has schema steps this heatwatch does not know (${newer.join(', ')}): ` +
          'a newer release upgraded it. Start that release, or stop every instance and restore the ' +
          'backup taken before the upgrade (docs/deploy.md "Schema upgrades")',
      );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      try {
        await q.exec(q.dialect === 'postgres' ? m.postgres : m.sqlite);
      } catch (err) {
        throw new Error(`migration ${m.id} failed on ${q.dialect}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await q.run('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)', [m.id, now()]);
      applied.push(m.id);
    }
    return applied;
  });
}
