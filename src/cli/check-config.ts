import { formatIssue, tryLoadConfig } from '../config/loader.ts';

/** `check-config [dir]`: what an engineer runs before committing a config edit. */
export async function run(args: string[]): Promise<number> {
  const dir = args[0] ?? process.env.HEATWATCH_CONFIG ?? 'config';
  const result = tryLoadConfig(dir);
  if (!result.ok) {
    for (const i of result.issues) process.stderr.write(`${formatIssue(i)}\n`);
    return 1;
  }
  const { registry, version } = result.config;
  process.stdout.write(
    `${dir}: ok (version ${version}): ${registry.substations.size} substations, ${registry.buildings.size} buildings, ${registry.sensors.size} sensors\n`,
  );
  return 0;
}
