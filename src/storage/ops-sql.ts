import type { OpsConfig } from '../config/ops-schema.ts';
import type { Logger } from '../core/log.ts';
import { OpsDbUnreachableError, openPostgres, redactUrl, type SqlDb, sqliteSql } from './sql.ts';
import { migrateSql, type SqlMigration } from './sql-migrate.ts';
import type { Db } from './sqlite.ts';

/**
 * Exit code of a start that found the operational database on PostgreSQL unreachable: distinct from
 * 1 (any other failed start, such as a refused config) so a supervisor or an operator's script can
 * tell "the database is down, start again later" from "fix the configuration".
 */
export const EXIT_OPS_DB_UNREACHABLE = 69;

export interface OpsSqlOptions {
  cfg: OpsConfig;
  /** HEATWATCH_PG_URL; required when cfg.kind is postgres (the config loader refuses it missing). */
  pgUrl: string | undefined;
  /** The SQLite ops.db, already open and migrated (src/storage/ops-db.ts). */
  sqlite: Db;
  /** The modules' steps for PostgreSQL; on SQLite they already ran with the rest of ops.db's. */
  migrations: readonly SqlMigration[];
  log: Logger;
}

/**
 * The ops database of the modules that moved onto the query layer (docs/architecture.md decision
 * 3): the embedded ops.db by default, or the city's PostgreSQL (`ops.kind: postgres`), checked and
 * brought up to date here, so a start either has a working database or stops with one clear error.
 */
export async function openOpsSql(o: OpsSqlOptions): Promise<SqlDb> {
  if (o.cfg.kind === 'sqlite') return sqliteSql(o.sqlite);
  const url = o.pgUrl;
  if (!url)
    throw new OpsDbUnreachableError(
      '(unset)',
      new Error('ops.kind is postgres but HEATWATCH_PG_URL is not set'),
    );
  const log = o.log.child({ module: 'ops-db' });
  const db = await openPostgres(url, {
    ...o.cfg.postgres,
    onIdleError: (err) => log.warn({ err }, 'an idle PostgreSQL connection failed; the pool replaces it'),
  });
  try {
    const applied = await migrateSql(db, o.migrations, Date.now, { refuseNewer: true });
    log.info({ url: redactUrl(url), applied }, 'operational database on PostgreSQL');
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
