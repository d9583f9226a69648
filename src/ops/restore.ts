import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { readManifest, verifyDatabase } from './backup.ts';

export interface RestoreOptions {
  /** A backup set directory written by `backupSet` (it holds manifest.json). */
  setDir: string;
  /** The service's data directory (HEATWATCH_DATA_DIR). */
  dataDir: string;
  /** Only these databases of the set (default: all of them). */
  only?: readonly string[];
  /** Restore although a database looks in use (a `-wal`/`-shm` beside it, e.g. after a crash). */
  force: boolean;
}

export type RestoreResult =
  | { ok: true; restored: Array<{ name: string; previous?: string }> }
  | { ok: false; reason: string };

/**
 * Puts a backup set back into the data directory. The service must be stopped: SQLite cannot swap
 * a file under a live connection. Every copy is checked (`PRAGMA integrity_check`) before anything is
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
      // A running service keeps a -wal and -shm beside its database; a clean stop removes them.
      const inUse = ['-wal', '-shm'].filter((s) => existsSync(`${target}${s}`));
      if (inUse.length > 0 && !opts.force)
        return {
          ok: false,
          reason: `${target}${inUse[0]} exists: heatwatch may still be running. Stop it first; after a crash, pass --force`,
        };
    }

    const restored: Array<{ name: string; previous?: string }> = [];
    for (const name of names) {
      const target = join(opts.dataDir, name);
      const incoming = `${target}.restoring`;
      copyFileSync(join(opts.setDir, name), incoming);
      fsync(incoming);
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
    fsync(opts.dataDir);
    return { ok: true, restored };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

function fsync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
