import { isAbsolute, join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatIssue, tryLoadConfig } from '../config/loader.ts';
import { listBackupSets } from '../ops/backup.ts';
import { restoreSet } from '../ops/restore.ts';

const USAGE = `usage: heatwatch restore <SET-DIR | latest> [--config DIR] [--only a.db,b.db] [--force]
  Puts a backup set back into the data directory. Stop heatwatch first. Each copy is checked before
  anything is replaced; each replaced file is kept as <name>.before-restore.
  --config DIR  config directory (default: $HEATWATCH_CONFIG or config)
  --only LIST   restore only these databases of the set
  --force       restore although another process has a database open (never with heatwatch running)\n`;

export async function run(args: string[]): Promise<number> {
  let parsed: {
    values: { config?: string; only?: string; force?: boolean; help?: boolean };
    positionals: string[];
  };
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        only: { type: 'string' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const loaded = tryLoadConfig(values.config ?? process.env.HEATWATCH_CONFIG ?? 'config');
  if (!loaded.ok) {
    for (const i of loaded.issues) process.stderr.write(`${formatIssue(i)}\n`);
    return 1;
  }
  const { service } = loaded.config;
  let setDir = positionals[0]!;
  if (setDir === 'latest') {
    const backupDir = isAbsolute(service.backup.dir)
      ? service.backup.dir
      : join(service.dataDir, service.backup.dir);
    const sets = listBackupSets(backupDir);
    if (sets.length === 0) {
      process.stderr.write(`no complete backup set in ${backupDir}\n`);
      return 1;
    }
    setDir = sets[sets.length - 1]!;
  }
  const result = restoreSet({
    setDir,
    dataDir: service.dataDir,
    only: values.only
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    force: values.force === true,
  });
  if (!result.ok) {
    process.stderr.write(`restore refused: ${result.reason}\n`);
    return 1;
  }
  for (const r of result.restored)
    process.stdout.write(
      `${r.name} restored from ${setDir}${r.previous ? ` (previous file kept as ${r.previous})` : ''}\n`,
    );
  return 0;
}
