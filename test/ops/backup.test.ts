import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import {
  type BackupProgress,
  backupDatabase,
  backupSet,
  listBackupSets,
  readManifest,
  verifyDatabase,
} from '../../src/ops/backup.ts';
import { listRuns, openCatalog, recordRun } from '../../src/ops/catalog.ts';
import { restoreSet } from '../../src/ops/restore.ts';
import { type Db, openDb } from '../../src/storage/sqlite.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** A table shaped like the journal: an id and a ~200-byte body, so a few thousand rows span many pages. */
const MIGRATIONS = [
  {
    id: 'test-001',
    sql: 'CREATE TABLE samples (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)',
  },
];
const BODY = 'x'.repeat(200);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-backup-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function seed(db: Db, rows: number): void {
  const ins = db.prepare('INSERT INTO samples (body) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) ins.run(BODY);
  })();
}

const countRows = (file: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('online backup', () => {
  it('copies a database that its own connection keeps writing to, and the copy passes integrity_check', async () => {
    const db = openDb(join(dir, 'live.db'), { synchronous: 'NORMAL', migrations: MIGRATIONS });
    seed(db, 20_000);
    const ins = db.prepare('INSERT INTO samples (body) VALUES (?)');
    // The service's writes go on between backup steps, on the same event loop.
    let writes = 0;
    let writing = true;
    const writer = () => {
      if (!writing) return;
      for (let i = 0; i < 20; i++) ins.run(BODY);
      writes += 20;
      setImmediate(writer);
    };
    setImmediate(writer);
    const progress: BackupProgress[] = [];
    const r = await backupDatabase(db, join(dir, 'copy.db'), {
      pagesPerStep: 8,
      maxRestarts: 3,
      onProgress: (p) => progress.push(p),
    });
    writing = false;
    const finalCount = (db.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
    db.close();

    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(progress.length).toBeGreaterThan(50);
    expect(writes).toBeGreaterThan(0);
    // Same connection: SQLite updates the copy as pages change, so it never restarts.
    expect(r.restarts).toBe(0);
    expect(progress.at(-1)!.remainingPages).toBeLessThan(progress[0]!.totalPages);
    expect(verifyDatabase(r.file)).toEqual({ ok: true });
    const copied = countRows(r.file);
    expect(copied).toBeGreaterThanOrEqual(20_000);
    expect(copied).toBeLessThanOrEqual(finalCount);
    expect(existsSync(`${r.file}.partial`)).toBe(false);
  });

  it('copies a database other connections write to meanwhile, escalating to one step after restarts', async () => {
    const file = join(dir, 'shared.db');
    const db = openDb(file, { synchronous: 'NORMAL', migrations: MIGRATIONS });
    seed(db, 20_000);
    db.close();
    // A second process plays the running service: it inserts until told to stop, then reports.
    const script = join(dir, 'writer.mjs');
    writeFileSync(
      script,
      `import Database from ${JSON.stringify(join(ROOT, 'node_modules/better-sqlite3/lib/index.js'))};
       const db = new Database(${JSON.stringify(file)});
       db.pragma('journal_mode = WAL'); db.pragma('busy_timeout = 5000');
       const ins = db.prepare('INSERT INTO samples (body) VALUES (?)');
       let n = 0, stop = false;
       process.on('message', () => { stop = true; });
       const tick = () => { if (stop) { db.close(); process.send(n, () => process.exit(0)); return; }
         ins.run('w'.repeat(200)); n++; if (n === 1) process.send('started'); setImmediate(tick); };
       tick();`,
    );
    const child: ChildProcess = spawn(process.execPath, [script], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const messages: unknown[] = [];
    child.on('message', (m) => messages.push(m));
    await new Promise<void>((res, rej) => {
      child.once('message', () => res());
      child.once('exit', (code) => rej(new Error(`writer exited with ${code}`)));
    });

    const own = new Database(file);
    // The child may get no CPU during the copy on a busy machine, so a second connection of this
    // process also commits between steps: SQLite restarts a backup whenever a connection other than
    // the source's changes the file, whichever process it lives in.
    const other = new Database(file);
    const insert = other.prepare('INSERT INTO samples (body) VALUES (?)');
    let between = 0;
    const progress: BackupProgress[] = [];
    const r = await backupDatabase(own, join(dir, 'copy.db'), {
      pagesPerStep: 8,
      maxRestarts: 2,
      onProgress: (p) => {
        progress.push(p);
        if (p.restarts < 2 && progress.length % 5 === 0) {
          insert.run('b'.repeat(200));
          between++;
        }
      },
    });
    other.close();
    own.close();
    child.send('stop');
    const written = await new Promise<number>((res) =>
      child.on('message', (m) => {
        if (typeof m === 'number') res(m);
      }),
    );

    expect(r.ok, r.ok ? '' : r.reason).toBe(true);
    if (!r.ok) return;
    expect(written).toBeGreaterThan(0);
    // The other process's commits restarted the stepwise copy; it then finished in one step.
    expect(r.restarts).toBeGreaterThanOrEqual(2);
    expect(verifyDatabase(r.file)).toEqual({ ok: true });
    const copied = countRows(r.file);
    expect(copied).toBeGreaterThanOrEqual(20_000);
    expect(copied).toBeLessThanOrEqual(20_000 + written + between);
  });

  it('refuses to call a damaged file good', () => {
    const file = join(dir, 'bad.db');
    const db = openDb(file, { synchronous: 'NORMAL', migrations: MIGRATIONS });
    seed(db, 2000);
    db.close();
    const bytes = readFileSync(file);
    // Overwrite the middle of the file (b-tree pages), keeping the header: it still opens.
    bytes.fill(0x55, 8192, bytes.length - 8192);
    writeFileSync(file, bytes);
    const r = verifyDatabase(file);
    expect(r.ok).toBe(false);
  });
});

describe('backup sets and restore', () => {
  const opts = (backupDir: string, nowMs: number) => ({
    dir: backupDir,
    keep: 2,
    pagesPerStep: 100,
    maxRestarts: 3,
    busyTimeoutMs: 1000,
    nowMs,
    log: silentLogger(),
  });

  it('writes a manifest per set, keeps the newest `keep` sets and records each run in the catalog', async () => {
    const data = join(dir, 'data');
    const a = openDb(join(data, 'ops.db'), { synchronous: 'FULL', migrations: MIGRATIONS });
    seed(a, 100);
    const backups = join(data, 'backups');
    const catalog = openCatalog(backups);
    const t0 = Date.parse('2026-01-10T03:00:00Z');
    for (let i = 0; i < 3; i++) {
      const r = await backupSet(
        [
          { name: 'ops.db', source: a },
          { name: 'journal.db', source: join(data, 'ops.db') },
        ],
        opts(backups, t0 + i * 86_400_000),
      );
      expect(r.ok).toBe(true);
      recordRun(catalog, t0 + i * 86_400_000, r);
    }
    const failed = await backupSet(
      [{ name: 'x.db', source: join(data, 'missing.db') }],
      opts(backups, t0 + 4e8),
    );
    expect(failed.ok).toBe(false);
    recordRun(catalog, t0 + 4e8, failed);
    a.close();

    const sets = listBackupSets(backups);
    expect(sets.map((s) => s.split('/').at(-1))).toEqual([
      '2026-01-11T03-00-00-000Z',
      '2026-01-12T03-00-00-000Z',
    ]);
    const m = readManifest(sets[1]!);
    expect(m.files.map((f) => f.name)).toEqual(['ops.db', 'journal.db']);
    expect(m.files[0]!.migrations).toEqual(['test-001']);
    const runs = listRuns(catalog, 10);
    catalog.close();
    expect(runs.map((r) => r.ok)).toEqual([false, true, true, true]);
    expect(runs[1]!.files).toBe(2);
    expect(runs[0]!.reason).toContain('x.db');
  });

  it('restores a set only when the database is not in use, keeping the replaced file', async () => {
    const data = join(dir, 'data');
    const db = openDb(join(data, 'ops.db'), { synchronous: 'FULL', migrations: MIGRATIONS });
    seed(db, 500);
    const r = await backupSet(
      [{ name: 'ops.db', source: db }],
      opts(join(dir, 'b'), Date.parse('2026-01-10T00:00:00Z')),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    seed(db, 300); // written after the backup: gone after a restore, kept in .before-restore

    // Another connection has the database open: the service may be running.
    const refused = restoreSet({ setDir: r.dir, dataDir: data, force: false });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toContain('may still be running');
    expect(countRows(join(data, 'ops.db'))).toBe(800);
    db.close();

    const done = restoreSet({ setDir: r.dir, dataDir: data, force: false });
    expect(done).toEqual({
      ok: true,
      restored: [{ name: 'ops.db', previous: join(data, 'ops.db.before-restore') }],
    });
    expect(countRows(join(data, 'ops.db'))).toBe(500);
    expect(countRows(join(data, 'ops.db.before-restore'))).toBe(800);
    expect(verifyDatabase(join(data, 'ops.db'))).toEqual({ ok: true });
  });

  it('changes nothing when a copy in the set is damaged', async () => {
    const data = join(dir, 'data');
    const db = openDb(join(data, 'ops.db'), { synchronous: 'FULL', migrations: MIGRATIONS });
    seed(db, 2000);
    const r = await backupSet(
      [{ name: 'ops.db', source: db }],
      opts(join(dir, 'b'), Date.parse('2026-01-10T00:00:00Z')),
    );
    seed(db, 1);
    db.close();
    if (!r.ok) throw new Error(r.reason);
    const copy = join(r.dir, 'ops.db');
    const bytes = readFileSync(copy);
    bytes.fill(0x55, 8192, bytes.length - 8192);
    writeFileSync(copy, bytes);
    const res = restoreSet({ setDir: r.dir, dataDir: data, force: true });
    expect(res.ok).toBe(false);
    expect(countRows(join(data, 'ops.db'))).toBe(2001);
    expect(restoreSet({ setDir: join(dir, 'nothing'), dataDir: data, force: false }).ok).toBe(false);
  });
});
