import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { opsSchema } from '../../src/config/ops-schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { householdsMigrations } from '../../src/households/module.ts';
import { openOpsSql } from '../../src/storage/ops-sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { pgAvailable, pgSchema } from '../support/postgres.ts';

const hasPg = await pgAvailable();
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('the ops database on PostgreSQL at start', () => {
  it.runIf(hasPg)(
    'refuses a database a newer release upgraded: an older instance does not start',
    async () => {
      const schema = await pgSchema();
      closers.push(() => schema.drop());
      const sqlite = openDb(':memory:', { synchronous: 'NORMAL', migrations: [] });
      closers.push(async () => void sqlite.close());
      const open = () =>
        openOpsSql({
          cfg: opsSchema.parse({ kind: 'postgres' }),
          pgUrl: schema.url,
          sqlite,
          migrations: householdsMigrations,
          log: silentLogger(),
        });
      const first = await open();
      await first.close();
      // The next release started on the same database and recorded a step of its own.
      const c = new pg.Client({ connectionString: schema.url });
      await c.connect();
      await c.query("INSERT INTO schema_migrations (id, applied_at) VALUES ('households-999', 0)");
      await c.end();
      await expect(open()).rejects.toThrow(
        /schema steps this heatwatch does not know \(households-999\): a newer release upgraded it/,
      );
    },
  );
});
