import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatIssue, tryLoadConfig } from '../config/loader.ts';
import { systemClock } from '../core/clock.ts';
import { createLogger } from '../core/log.ts';
import { backupSet, databasesIn } from '../ops/backup.ts';
import { listRuns, openCatalog, recordRun } from '../ops/catalog.ts';

const USAGE = `usage: heatwatch backup [--config DIR] [--out DIR] [--list]
  Copies every SQLite database of the data directory into a new backup set while heatwatch runs
  (online backup), checks each copy with PRAGMA integrity_check, and keeps the newest backup.keep sets.
  --config DIR  config directory (default: $HEATWATCH_CONFIG or config)
  --out DIR     where backup sets go (default: backup.dir, relative to the data directory)
  --list        show the recorded backup runs instead\n`;

/** `backup`: what cron (or the operator) runs beside the service; see docs/deploy.md "Operations". */
export async function run(args: string[]): Promise<number> {
  let opts: { config?: string; out?: string; list?: boolean; help?: boolean };
  try {
    opts = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        out: { type: 'string' },
        list: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const dir = opts.config ?? process.env.HEATWATCH_CONFIG ?? 'config';
  const loaded = tryLoadConfig(dir);
  if (!loaded.ok) {
    for (const i of loaded.issues) process.stderr.write(`${formatIssue(i)}\n`);
    return 1;
  }
  const { service } = loaded.config;
  const dataDir = service.dataDir;
  const backupDir =
    opts.out ?? (isAbsolute(service.backup.dir) ? service.backup.dir : join(dataDir, service.backup.dir));
  const catalog = openCatalog(backupDir);
  try {
    if (opts.list) {
      for (const r of listRuns(catalog, 100))
        process.stdout.write(
          `${new Date(r.createdMs).toISOString()}  ${r.ok ? 'ok    ' : 'FAILED'}  ${r.setDir}${
            r.ok ? `  ${r.files ?? '?'} files, ${r.bytes ?? '?'} bytes` : `  ${r.reason}`
          }\n`,
        );
      return 0;
    }
    const names = databasesIn(dataDir);
    if (names.length === 0) {
      process.stderr.write(`no SQLite databases (*.db) in ${dataDir}\n`);
      return 1;
    }
    const log = createLogger(service.logLevel).child({ module: 'backup' });
    const nowMs = systemClock().now();
    let lastPct = -1;
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
        log,
        onProgress: (p) => {
          const pct = Math.floor(((p.totalPages - p.remainingPages) / Math.max(1, p.totalPages)) * 100);
          if (pct !== lastPct && pct % 10 === 0)
            process.stderr.write(`${p.file}: ${pct}% of ${p.totalPages} pages (restarts ${p.restarts})\n`);
          lastPct = pct;
        },
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
  } finally {
    catalog.close();
  }
}
