import { commandArgs, configDir, loadConfigOrReport } from './command.ts';

const USAGE = `usage: heatwatch check-config [DIR] [--config DIR]
  Validates a config directory and prints every problem as file: path: message (exit code 1).
  DIR           config directory (default: --config, else $HEATWATCH_CONFIG, else config)\n`;

/** `check-config [dir]`: what an engineer runs before committing a config edit. */
export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs(args, USAGE, {}, true);
  if (typeof parsed === 'number') return parsed;
  if (parsed.positionals.length > 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const dir = configDir(parsed.positionals[0] ?? parsed.values.config);
  const config = loadConfigOrReport(dir);
  if (typeof config === 'number') return config;
  const { registry, version } = config;
  process.stdout.write(
    `${dir}: ok (version ${version}): ${registry.substations.size} substations, ${registry.buildings.size} buildings, ${registry.sensors.size} sensors\n`,
  );
  return 0;
}
