import { join } from 'node:path';
import type { ServiceConfig } from '../config/service-schema.ts';
import { systemClock } from '../core/clock.ts';
import { createLogger } from '../core/log.ts';
import { type BackupProgress, backupSet, databasesIn } from '../ops/backup.ts';
import { listRuns, openCatalog, recordRun } from '../ops/catalog.ts';
import type { Db } from '../storage/sqlite.ts';
import { backupDirOf, commandArgs, configDir, loadConfigOrReport } from './command.ts';

const USAGE = `usage: heatwatch backup [--config DIR] [--out DIR] [--list]
  Copies every SQLite database of the data directory into a new backup set while heatwatch runs
  (online backup), checks each copy with PRAGMA integrity_check, and keeps the newest backup.keep sets.
  --config DIR  config directory (default: $HEATWATCH_CONFIG or config)
  --out DIR     where backup sets go (default: backup.dir, relative to the data directory)
  --list        show the recorded backup runs instead\n`;

/** `backup`: what cron (or the operator) runs beside the service; see docs/deploy.md "Operations". */
export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs(args, USAGE, { out: { type: 'string' }, list: { type: 'boolean' } });
  if (typeof parsed === 'number') return parsed;
  const opts = parsed.values;
  const config = loadConfigOrReport(configDir(opts.config));
  if (typeof config === 'number') return config;
  const { service } = config;
  const backupDir = opts.out ?? backupDirOf(service);
  const catalog = openCatalog(backupDir);
  try {
    if (opts.list) {
      printRuns(catalog);
      return 0;
    }
    return await backUp(service, backupDir, catalog);
  } finally {
    catalog.close();
  }
}

/** `--list`: the recorded runs, newest first. */
function printRuns(catalog: Db): void {
  for (const r of listRuns(catalog, 100))
    process.stdout.write(
      `${new Date(r.createdMs).toISOString()}  ${r.ok ? 'ok    ' : 'FAILED'}  ${r.setDir}${
        r.ok ? `  ${r.files ?? '?'} files, ${r.bytes ?? '?'} bytes` : `  ${r.reason}`
      }\n`,
    );
}

/** Copies every database of the data directory into a new set, records the run and reports it. */
async function backUp(service: ServiceConfig, backupDir: string, catalog: Db): Promise<number> {
  const dataDir = service.dataDir;
  const names = databasesIn(dataDir);
  if (names.length === 0) {
    process.stderr.write(`no SQLite databases (*.db) in ${dataDir}\n`);
    return 1;
  }
  const nowMs = systemClock().now();
  const result = await backupSet(
    names.map((name) => ({ name, source: join(dataDir, name) })),
    {
      dir: backupDir,
      keep: service.backup.keep,
      pagesPerStep: service.backup.pagesPerStep,
      maxRestarts: service.backup.maxRestarts,
      busyTimeoutMs: service.store.sqlite.busyTimeoutMs,
      // Beside a running heatwatch the journal is locked exclusively: it holds only readings not
      // yet in the reading store. Skipped with a warning; stop heatwatch for a copy that has it.
      skipLocked: true,
      nowMs,
      log: createLogger(service.logLevel).child({ module: 'backup' }),
      onProgress: progressPrinter(),
    },
  );
  recordRun(catalog, nowMs, result);
  if (!result.ok) {
    process.stderr.write(`backup failed: ${result.reason}\n`);
    return 1;
  }
  for (const f of result.manifest.files)
    process.stdout.write(`${f.name}: ${f.pages} pages, ${f.bytes} bytes, integrity ok\n`);
  for (const f of result.manifest.skipped ?? [])
    process.stderr.write(`warning: ${f.name} not backed up: ${f.reason}\n`);
  process.stdout.write(
    `backup set ${result.dir}${result.pruned.length ? ` (pruned ${result.pruned.join(', ')})` : ''}\n`,
  );
  return 0;
}

/** Progress to stderr, one line per file every 10 %. */
function progressPrinter(): (p: BackupProgress) => void {
  let lastPct = -1;
  return (p) => {
    const pct = Math.floor(((p.totalPages - p.remainingPages) / Math.max(1, p.totalPages)) * 100);
    if (pct !== lastPct && pct % 10 === 0)
      process.stderr.write(`${p.file}: ${pct}% of ${p.totalPages} pages (restarts ${p.restarts})\n`);
    lastPct = pct;
  };
}
