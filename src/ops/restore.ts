import { copyFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fsyncFile, readManifest, verifyDatabase } from './backup.ts';

export interface RestoreOptions {
  /** A backup set directory written by `backupSet` (it holds manifest.json). */
  setDir: string;
  /** The service's data directory (HEATWATCH_DATA_DIR). */
  dataDir: string;
  /** Only these databases of the set (default: all of them). */
  only?: readonly string[];
  /** Restore although another process has a database open. Never with heatwatch running. */
  force: boolean;
}

export type RestoreResult =
  | { ok: true; restored: Array<{ name: string; previous?: string }> }
  | { ok: false; reason: string };

/**
 * Puts a backup set back into the data directory. The service must be stopped: SQLite cannot swap
 * a file under a live connection, and a database another process has open is refused. Every copy is checked (`PRAGMA integrity_check`) before anything is
 * replaced, so a bad set changes nothing; each database is then copied beside its target, fsynced and
 * renamed over it, and the file it replaces is kept as `<name>.before-restore`. Schema migrations
 * bring an older backup up to date at the next start (src/storage/sqlite.ts `migrate`). Never throws.
 */
export function restoreSet(opts: RestoreOptions): RestoreResult {
  try {
    if (!existsSync(join(opts.setDir, 'manifest.json')))
      return { ok: false, reason: `${opts.setDir} is not a complete backup set (no manifest.json)` };
    const manifest = readManifest(opts.setDir);
    const names = manifest.files.map((f) => f.name).filter((n) => !opts.only || opts.only.includes(n));
    const unknown = (opts.only ?? []).filter((n) => !manifest.files.some((f) => f.name === n));
    if (unknown.length > 0) return { ok: false, reason: `not in this backup set: ${unknown.join(', ')}` };
    if (names.length === 0) return { ok: false, reason: 'the backup set holds no databases' };

    for (const name of names) {
      const check = verifyDatabase(join(opts.setDir, name));
      if (!check.ok) return { ok: false, reason: `${name} in the backup set is damaged: ${check.reason}` };
      const target = join(opts.dataDir, name);
      if (!opts.force && inUse(target))
        return {
          ok: false,
          reason: `${target} is open in another process: heatwatch may still be running. Stop it first`,
        };
    }

    const restored: Array<{ name: string; previous?: string }> = [];
    for (const name of names) {
      const target = join(opts.dataDir, name);
      const incoming = `${target}.restoring`;
      copyFileSync(join(opts.setDir, name), incoming);
      fsyncFile(incoming);
      let previous: string | undefined;
      if (existsSync(target) && statSync(target).size > 0) {
        previous = `${target}.before-restore`;
        for (const s of ['', '-wal']) rmSync(`${previous}${s}`, { force: true });
        renameSync(target, previous);
        // Its WAL goes with it (SQLite finds it by name), so the kept file holds its last commits.
        if (existsSync(`${target}-wal`)) renameSync(`${target}-wal`, `${previous}-wal`);
      }
      // Whatever WAL is left belongs to the old file: replayed onto the restored one it would corrupt it.
      for (const s of ['-wal', '-shm']) rmSync(`${target}${s}`, { force: true });
      renameSync(incoming, target);
      restored.push(previous ? { name, previous } : { name });
    }
    fsyncFile(opts.dataDir);
    return { ok: true, restored };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * True when another connection has the database open. In WAL mode every open connection holds a
 * shared lock on the file, so an exclusive lock (locking_mode=EXCLUSIVE, taken at the first read)
 * is refused at once. When it is granted, closing this last connection also checkpoints a WAL left
 * by a crash into the file, so the file kept as `.before-restore` has every commit.
 */
function inUse(file: string): boolean {
  if (!existsSync(file)) return false;
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return false;
  } catch (err) {
    return (err as { code?: string }).code === 'SQLITE_BUSY';
  } finally {
    db?.close();
  }
}
