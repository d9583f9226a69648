import { configDir, loadConfigOrReport } from './command.ts';

/** `check-config [dir]`: what an engineer runs before committing a config edit. */
export async function run(args: string[]): Promise<number> {
  const dir = configDir(args[0]);
  const config = loadConfigOrReport(dir);
  if (typeof config === 'number') return config;
  const { registry, version } = config;
  process.stdout.write(
    `${dir}: ok (version ${version}): ${registry.substations.size} substations, ${registry.buildings.size} buildings, ${registry.sensors.size} sensors\n`,
  );
  return 0;
}
