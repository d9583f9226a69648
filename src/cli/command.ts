import { isAbsolute, join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { formatIssue, type HeatwatchConfig, tryLoadConfig } from '../config/loader.ts';
import type { ServiceConfig } from '../config/service-schema.ts';

/**
 * The first steps every engineer's command shares (each src/cli/<name>.ts calls them from its
 * `run`; src/cli.ts only dispatches): parse the options, answer `--help`, load the config directory.
 * Each returns the exit code instead when the command is done.
 */

type Options = NonNullable<ParseArgsConfig['options']>;

/** The options every command takes besides its own. */
const COMMON = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** A command's parsed options, typed from its table. */
type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: typeof COMMON & O }>
>['values'];

/**
 * Parses a command's arguments: its own options plus `--config DIR` and `-h/--help`; positional
 * arguments only where the command takes them. A parse error is printed with the usage (exit code
 * 2); `--help` prints the usage to stdout (exit code 0).
 */
export function commandArgs<O extends Options>(
  args: string[],
  usage: string,
  options: O,
  allowPositionals = false,
): { values: Values<O>; positionals: string[] } | number {
  let parsed: { values: Values<O>; positionals: string[] };
  try {
    parsed = parseArgs({ args, allowPositionals, options: { ...COMMON, ...options } }) as typeof parsed;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}

/** The config directory: `--config`, else $HEATWATCH_CONFIG, else `config`. */
export const configDir = (flag: string | undefined): string =>
  flag ?? process.env.HEATWATCH_CONFIG ?? 'config';

/** Loads the config directory, or prints every problem as `file: path: message` (exit code 1). */
export function loadConfigOrReport(dir: string): HeatwatchConfig | number {
  const loaded = tryLoadConfig(dir);
  if (loaded.ok) return loaded.config;
  for (const i of loaded.issues) process.stderr.write(`${formatIssue(i)}\n`);
  return 1;
}

/** Where backup sets go: backup.dir, relative to the data directory unless absolute. */
export const backupDirOf = (service: ServiceConfig): string =>
  isAbsolute(service.backup.dir) ? service.backup.dir : join(service.dataDir, service.backup.dir);
