import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT_OPS_DB_UNREACHABLE } from '../../src/storage/ops-sql.ts';
import { pgAvailable, pgSchema } from '../support/postgres.ts';
import { freePort } from '../support/servers.ts';
import { postgresConfig, spawnService, startOnPostgres, tempDir } from './support.ts';

const hasPg = await pgAvailable();
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('heatwatch with ops.kind: postgres', () => {
  it('exits with its own code and a clear message when PostgreSQL does not answer', async () => {
    const t = tempDir('hw-ops-pg-down-');
    cleanup.push(t.cleanup);
    const [mqttPort, httpPort, pgPort] = [await freePort(), await freePort(), await freePort()];
    const { proc, output, exited } = spawnService(
      ['--import', 'tsx', 'src/main.ts', '--config', postgresConfig(t.dir)],
      { mqtt: mqttPort, http: httpPort },
      join(t.dir, 'data'),
      { HEATWATCH_PG_URL: `postgres://heatwatch:pw-not-shown@127.0.0.1:${pgPort}/ops` },
    );
    try {
      const code = await exited;
      expect(code, output()).toBe(EXIT_OPS_DB_UNREACHABLE);
      expect(output()).toContain(
        `heatwatch: the operational database on PostgreSQL at postgres://heatwatch:***@127.0.0.1:${pgPort}/ops is not reachable`,
      );
      expect(output()).not.toContain('pw-not-shown');
      expect(output()).not.toContain('heatwatch running');
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 60_000);

  it.runIf(hasPg)(
    'keeps the households and the audit log in PostgreSQL: migrated at start, a complaint lands there and not in ops.db',
    async () => {
      const t = tempDir('hw-ops-pg-');
      cleanup.push(t.cleanup);
      const schema = await pgSchema();
      cleanup.push(() => schema.drop());
      const token = 'hw_ops_pg_admin_token_0123456789abcdef';
      const dataDir = join(t.dir, 'data');
      const hw = await startOnPostgres({
        configDir: postgresConfig(t.dir),
        dataDir,
        url: schema.url,
        env: { HEATWATCH_ADMIN_TOKEN: token },
      });
      cleanup.push(() => hw.stop());
      expect(hw.opsSql.dialect).toBe('postgres');
      const res = await fetch(`http://127.0.0.1:${hw.httpPort}/api/households/complaints`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          unit: 'n01/1-2',
          channel: 'hotline',
          cls: 'temperature',
          caller: 'Mrs Li',
          text: 'The bedroom is cold',
        }),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      const c = new pg.Client({ connectionString: schema.url });
      await c.connect();
      try {
        const migrations = await c.query('SELECT id FROM schema_migrations ORDER BY id');
        expect(migrations.rows.map((r) => r.id)).toContain('households-001');
        const rows = await c.query('SELECT unit_key FROM hh_complaints');
        expect(rows.rows).toEqual([{ unit_key: 'n01/1-2' }]);
        expect((await c.query('SELECT COUNT(*)::int AS n FROM hh_cases')).rows).toEqual([{ n: 1 }]);
        // The API's audit log is in PostgreSQL too: who filed it, through which route.
        const audit = await c.query('SELECT actor, path, outcome FROM http_audit');
        expect(audit.rows).toEqual([{ actor: 'admin', path: '/api/households/complaints', outcome: 'ok' }]);
      } finally {
        await c.end();
      }
      const local = new Database(join(dataDir, 'ops.db'), { readonly: true });
      try {
        expect(local.prepare('SELECT COUNT(*) AS n FROM hh_complaints').get()).toEqual({ n: 0 });
      } finally {
        local.close();
      }
    },
    60_000,
  );
});
