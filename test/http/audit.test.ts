import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AuditEntry, AuditLog, auditMigrations, httpMigrations } from '../../src/http/audit.ts';
import { openPostgres, type SqlDb, sqliteSql } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-audit-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (i: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  ts: 1_796_000_000_000 + i,
  actor: 'otto',
  role: 'operator',
  method: 'POST',
  path: '/api/tickets/:id/approve',
  action: 'ticket.approve',
  target: `T-${i}`,
  outcome: 'ok',
  status: 200,
  ...over,
});

/** The audit log's contract on every ops-database backend. */
function auditLogSuite(name: string, make: () => Promise<{ sql: SqlDb; close(): Promise<void> }>): void {
  describe(`audit log: ${name}`, () => {
    let h: { sql: SqlDb; close(): Promise<void> };
    beforeEach(async () => {
      h = await make();
    });
    afterEach(() => h.close());

    it('pages newest first, bounds what a request can make it keep, and refuses to be rewritten', async () => {
      const log = new AuditLog(h.sql);
      for (let i = 1; i <= 5; i++) await log.record(entry(i));
      await log.record(entry(6, { actor: 'x'.repeat(500), detail: 'd'.repeat(10_000), role: undefined }));
      const page = await log.page(3);
      expect(page.map((r) => r.target)).toEqual(['T-6', 'T-5', 'T-4']);
      expect(page[0]).toMatchObject({ ts: 1_796_000_000_006, role: null, ip: null, status: 200 });
      expect(page[0]!.actor).toHaveLength(128);
      expect(page[0]!.detail).toHaveLength(2000);
      const next = await log.page(3, page.at(-1)!.id);
      expect(next.map((r) => r.target)).toEqual(['T-3', 'T-2', 'T-1']);
      await expect(h.sql.run("UPDATE http_audit SET actor = 'mallory'")).rejects.toThrow(/append-only/);
      await expect(h.sql.run('DELETE FROM http_audit')).rejects.toThrow(/append-only/);
      expect(await log.page(100)).toHaveLength(6);
    });
  });
}

auditLogSuite('sqlite (temp file)', async () => {
  const raw = openDb(join(dir, `ops-${n++}.db`), { synchronous: 'FULL', migrations: httpMigrations });
  return { sql: sqliteSql(raw), close: async () => void raw.close() };
});

if (await pgAvailable())
  auditLogSuite('postgres (machine server, random schema)', async () => {
    const s = await pgSchema();
    const sql = await openPostgres(s.url, pgOptions(2));
    await migrateSql(sql, auditMigrations);
    // TRUNCATE, which row triggers do not see, is refused too.
    await expect(sql.run('TRUNCATE http_audit')).rejects.toThrow(/append-only/);
    return {
      sql,
      close: async () => {
        await sql.close();
        await s.drop();
      },
    };
  });
