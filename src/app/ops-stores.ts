import { householdsMigrations } from '../households/module.ts';
import { auditMigrations, httpMigrations } from '../http/audit.ts';
import { cityMigrations } from '../ops/city.ts';
import { rulesMigrations, rulesSqlMigrations } from '../rules/module.ts';
import { DeadLetters } from '../storage/dead-letters.ts';
import { openOpsDb } from '../storage/ops-db.ts';
import { openOpsSql } from '../storage/ops-sql.ts';
import type { SqlDb } from '../storage/sql.ts';
import { sqliteMigrations } from '../storage/sql-migrate.ts';
import { type Db, type Migration, openDb } from '../storage/sqlite.ts';
import { ticketMigrations, ticketSqlMigrations } from '../tickets/migrations.ts';
import type { AppContext } from './context.ts';

export interface OpsStores {
  opsDb: Db;
  /** The ops database of the modules on the query layer: ops.db, or PostgreSQL with `ops.kind: postgres`. */
  opsSql: SqlDb;
  deadLetters: DeadLetters;
}

/** Operational database (dead letters, checkpoints; tickets and audit add theirs). */
export async function startOpsStores(ctx: AppContext): Promise<OpsStores> {
  const { svc, modules, dataFile, clock } = ctx;
  const opsMigrations: Migration[] = [
    ...httpMigrations,
    ...ticketMigrations,
    ...rulesMigrations,
    ...sqliteMigrations(householdsMigrations),
    ...sqliteMigrations(cityMigrations),
  ];
  const opsDb = openOpsDb(dataFile('ops.db'), opsMigrations);
  modules.add({ name: 'ops-db', stop: () => void opsDb.close() });
  // The modules on the query layer (audit log, households, tickets, the city feed) use the ops.db above or the city's
  // PostgreSQL (`ops.kind`); the PostgreSQL steps run here, the SQLite ones ran with ops.db's.
  const opsSql = await openOpsSql({
    cfg: svc.ops,
    pgUrl: ctx.config.secrets.pgUrl,
    sqlite: opsDb,
    migrations: [
      ...auditMigrations,
      ...ticketSqlMigrations,
      ...rulesSqlMigrations,
      ...householdsMigrations,
      ...cityMigrations,
    ],
    log: ctx.log,
  });
  modules.add({ name: 'ops-sql', stop: () => opsSql.close() });
  // Dead letters get their own connection at synchronous=NORMAL: a flood of junk must not cost an
  // fsync per message (the ops DB is FULL for tickets); losing the last second of dead letters to
  // a power cut is acceptable for diagnostics. Same file, so one backup holds everything.
  const deadLetterDb = openDb(dataFile('ops.db'), { synchronous: 'NORMAL', migrations: [] });
  modules.add({ name: 'dead-letter-db', stop: () => void deadLetterDb.close() });
  const deadLetters = new DeadLetters(
    deadLetterDb,
    { payloadBytes: svc.ingest.deadLetterPayloadBytes, retentionDays: svc.ingest.deadLetterRetentionDays },
    clock,
  );
  const pruneTimer = clock.setInterval(() => deadLetters.prune(), svc.ingest.deadLetterPruneIntervalMs);
  modules.add({ name: 'dead-letter-pruning', stop: () => pruneTimer.cancel() });
  return { opsDb, opsSql, deadLetters };
}
