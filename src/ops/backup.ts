import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import type { Logger } from '../core/log.ts';
import type { Db } from '../storage/sqlite.ts';

/**
 * Online backups of heatwatch's SQLite databases (docs/architecture.md decision 3: everything that
 * must survive lives in them). SQLite's backup API copies the database page by page while the service keeps
 * writing:
 * - through the service's own connection (in-process), pages written during the copy are updated in
 *   the copy as they change, so the stepwise copy always finishes;
 * - through another connection (the `heatwatch backup` CLI beside a running service), any write by the
 *   service restarts the copy at its next step. After `maxRestarts` restarts the rest is copied in
 *   a single step, which holds one read snapshot; in WAL mode the service's writers are not blocked
 *   by it (https://sqlite.org/wal.html: readers do not block writers).
 * Either way the copy is one consistent snapshot of the database.
 */
export interface BackupOptions {
  /** Pages copied per step; the event loop (and the service) runs between steps. */
  pagesPerStep: number;
  /** Restarts tolerated before the rest is copied in one step. */
  maxRestarts: number;
  onProgress?: (p: BackupProgress) => void;
}

export interface BackupProgress {
  file: string;
  totalPages: number;
  remainingPages: number;
  restarts: number;
}

export interface BackupDone {
  ok: true;
  file: string;
  pages: number;
  bytes: number;
  restarts: number;
  durationMs: number;
}

export type BackupResult =
  | BackupDone
  /** `locked`: another process holds the database exclusively, nothing could be read. */
  | { ok: false; file: string; reason: string; locked?: boolean };

/** better-sqlite3 clamps a step to this; "copy everything left now". */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies one database to `destFile` online. The copy is written beside the target as `.partial`,
 * checked with `PRAGMA integrity_check`, fsynced, and only then renamed into place, so a crash or a
 * failed check never leaves a file that looks like a good backup. Never throws.
 */
export async function backupDatabase(
  source: Db,
  destFile: string,
  opts: BackupOptions,
): Promise<BackupResult> {
  const partial = `${destFile}.partial`;
  const started = performance.now();
  let restarts = 0;
  let lastRemaining = Number.POSITIVE_INFINITY;
  let pages = 0;
  try {
    rmSync(partial, { force: true });
    // A database held with locking_mode=EXCLUSIVE by another process (heatwatch's journal) cannot be
    // read at all; SQLite's backup then "finishes" with zero pages and no file. Ask first, and say so.
    try {
      source.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_BUSY')
        return {
          ok: false,
          file: destFile,
          locked: true,
          reason: 'held exclusively by a running process (heatwatch keeps its journal this way)',
        };
      throw err;
    }
    const progress = await source.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        // The remaining count only grows when another connection wrote and SQLite started over.
        if (remainingPages > lastRemaining) restarts++;
        lastRemaining = remainingPages;
        opts.onProgress?.({ file: destFile, totalPages, remainingPages, restarts });
        return restarts >= opts.maxRestarts ? ALL_PAGES : opts.pagesPerStep;
      },
    });
    pages = progress.totalPages;
    const check = verifyDatabase(partial);
    if (!check.ok) {
      rmSync(partial, { force: true });
      return { ok: false, file: destFile, reason: `the copy failed its integrity check: ${check.reason}` };
    }
    fsyncFile(partial);
    renameSync(partial, destFile);
    return {
      ok: true,
      file: destFile,
      pages,
      bytes: statSync(destFile).size,
      restarts,
      durationMs: performance.now() - started,
    };
  } catch (err) {
    rmSync(partial, { force: true });
    return { ok: false, file: destFile, reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Opens a database file and runs `PRAGMA integrity_check`. Never throws. Not read-only: a copy keeps
 * its source's WAL flag, and a WAL database opened read-only needs a `-shm` file that a fresh copy
 * lacks; opened normally, SQLite creates it and removes it again on close.
 */
export function verifyDatabase(file: string): { ok: true } | { ok: false; reason: string } {
  let db: Db | undefined;
  try {
    db = new Database(file, { fileMustExist: true });
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>;
    const problems = rows.map((r) => r.integrity_check).filter((s) => s !== 'ok');
    return problems.length === 0 ? { ok: true } : { ok: false, reason: problems.slice(0, 5).join('; ') };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    db?.close();
  }
}

/**
 * Flushes a file to disk, or a directory's entries (a rename is durable only once its directory is
 * flushed): the restore uses it for both.
 */
export function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One database to back up: the service's own connection, or a file opened for the backup only. */
export interface BackupSource {
  /** File name inside the backup set, e.g. `ops.db`. */
  name: string;
  source: Db | string;
}

export interface BackupSetOptions extends BackupOptions {
  /**
   * Databases another process holds exclusively are left out and listed in the manifest's `skipped`
   * instead of failing the set (the CLI beside a running heatwatch: its journal is such a file).
   */
  skipLocked?: boolean;
  /** The directory that holds the backup sets (backup.dir). */
  dir: string;
  /** Sets kept after a successful backup (backup.keep). */
  keep: number;
  /** Names the set: the heating clock's now, from the caller's Clock. */
  nowMs: number;
  busyTimeoutMs: number;
  log: Logger;
}

export interface BackupManifest {
  createdAt: string;
  files: Array<{ name: string; pages: number; bytes: number; restarts: number; migrations: string[] }>;
  /** Databases left out, with the reason (see BackupSetOptions.skipLocked). */
  skipped?: Array<{ name: string; reason: string }>;
}

export type BackupSetResult =
  | { ok: true; dir: string; manifest: BackupManifest; pruned: string[] }
  | { ok: false; dir: string; reason: string };

const MANIFEST = 'manifest.json';
/** Set directories are named by their UTC time, so names sort by age. */
const setName = (nowMs: number): string => new Date(nowMs).toISOString().replace(/[:.]/g, '-');

/**
 * Backs up several databases into one new set directory `<dir>/<time>/` with a manifest, then prunes
 * sets beyond `keep`. A set without a manifest is incomplete and is never counted as a backup.
 */
export async function backupSet(
  sources: readonly BackupSource[],
  opts: BackupSetOptions,
): Promise<BackupSetResult> {
  const dir = join(opts.dir, setName(opts.nowMs));
  try {
    if (existsSync(dir)) return { ok: false, dir, reason: 'a backup set of this instant already exists' };
    mkdirSync(dir, { recursive: true });
    const manifest: BackupManifest = { createdAt: new Date(opts.nowMs).toISOString(), files: [] };
    for (const s of sources) {
      const own = typeof s.source === 'string';
      let db: Db;
      try {
        db = typeof s.source === 'string' ? openForBackup(s.source, opts.busyTimeoutMs) : s.source;
      } catch (err) {
        return { ok: false, dir, reason: `${s.name}: ${err instanceof Error ? err.message : String(err)}` };
      }
      try {
        const r = await backupDatabase(db, join(dir, s.name), opts);
        if (!r.ok && r.locked && opts.skipLocked) {
          manifest.skipped = [...(manifest.skipped ?? []), { name: s.name, reason: r.reason }];
          opts.log.warn({ file: s.name }, `not backed up: ${r.reason}`);
          continue;
        }
        if (!r.ok) return { ok: false, dir, reason: `${s.name}: ${r.reason}` };
        manifest.files.push({
          name: s.name,
          pages: r.pages,
          bytes: r.bytes,
          restarts: r.restarts,
          migrations: appliedMigrations(db),
        });
        opts.log.info(
          { file: s.name, pages: r.pages, restarts: r.restarts, ms: Math.round(r.durationMs) },
          'database backed up',
        );
      } finally {
        if (own) db.close();
      }
    }
    const manifestFile = join(dir, MANIFEST);
    writeFileSync(`${manifestFile}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
    fsyncFile(`${manifestFile}.partial`);
    renameSync(`${manifestFile}.partial`, manifestFile);
    return { ok: true, dir, manifest, pruned: pruneSets(opts.dir, opts.keep) };
  } catch (err) {
    return { ok: false, dir, reason: err instanceof Error ? err.message : String(err) };
  }
}

/** A separate connection for the CLI: no migrations run, never creates a file. */
function openForBackup(file: string, busyTimeoutMs: number): Db {
  const db = new Database(file, { fileMustExist: true });
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  return db;
}

function appliedMigrations(db: Db): string[] {
  try {
    return (db.prepare('SELECT id FROM schema_migrations ORDER BY rowid').all() as Array<{ id: string }>).map(
      (r) => r.id,
    );
  } catch {
    return [];
  }
}

/** Complete sets (with a manifest), oldest first. */
export function listBackupSets(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, MANIFEST)))
    .map((e) => join(dir, e.name))
    .sort();
}

export function readManifest(setDir: string): BackupManifest {
  return JSON.parse(readFileSync(join(setDir, MANIFEST), 'utf8')) as BackupManifest;
}

function pruneSets(dir: string, keep: number): string[] {
  const sets = listBackupSets(dir);
  const old = sets.slice(0, Math.max(0, sets.length - keep));
  for (const s of old) rmSync(s, { recursive: true, force: true });
  return old.map((s) => basename(s));
}

/** The SQLite databases of a data directory: every `*.db` file (the backup sets' own dir excluded). */
export function databasesIn(dataDir: string): string[] {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.db'))
    .map((e) => e.name)
    .sort();
}
