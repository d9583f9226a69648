import { listBackupSets } from '../ops/backup.ts';
import { restoreSet } from '../ops/restore.ts';
import { backupDirOf, commandArgs, configDir, loadConfigOrReport } from './command.ts';

const USAGE = `usage: heatwatch restore <SET-DIR | latest> [--config DIR] [--only a.db,b.db] [--force]
  Puts a backup set back into the data directory. Stop heatwatch first. Each copy is checked before
  anything is replaced; each replaced file is kept as <name>.before-restore.
  --config DIR  config directory (default: $HEATWATCH_CONFIG or config)
  --only LIST   restore only these databases of the set
  --force       restore although another process has a database open (never with heatwatch running)\n`;

/** `restore <set | latest>`: puts a backup set back; see docs/deploy.md "Operations". */
export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs(args, USAGE, { only: { type: 'string' }, force: { type: 'boolean' } }, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const config = loadConfigOrReport(configDir(values.config));
  if (typeof config === 'number') return config;
  const { service } = config;
  let setDir = positionals[0]!;
  if (setDir === 'latest') {
    const backupDir = backupDirOf(service);
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
