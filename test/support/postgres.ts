import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { PostgresOptions } from '../../src/storage/sql.ts';
import { portOpen, serverAvailable } from './servers.ts';

/**
 * The machine's PostgreSQL (trust auth, database `test`). Each test file works in a schema of its
 * own with a random name, dropped at the end, so parallel files and other people never collide.
 */
export const PG_URL = process.env.HEATWATCH_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Pool options of a test's connection to the machine's server: `poolSize` connections, generous timeouts. */
export const pgOptions = (poolSize: number): PostgresOptions => ({
  poolSize,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
});

/** True when PostgreSQL answers; outside CI a missing server skips with a reason, under CI it fails. */
export async function pgAvailable(): Promise<boolean> {
  const { hostname, port } = new URL(PG_URL);
  return serverAvailable(
    'PostgreSQL',
    await portOpen(Number(port || 5432), hostname),
    `nothing answers at ${hostname}:${port || 5432} (Debian: apt-get install postgresql; pg_ctlcluster 15 main start)`,
  );
}

export interface PgSchema {
  name: string;
  /** PG_URL with this schema as search_path. */
  url: string;
  drop(): Promise<void>;
}

/** Creates `hw_<random>`; `drop` removes it with everything in it. */
export async function pgSchema(): Promise<PgSchema> {
  const name = `hw_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.searchParams.set('options', `-c search_path=${name}`);
  return {
    name,
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
