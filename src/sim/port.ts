import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SimConfig } from '../config/sim-schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { RegistryIndex } from '../core/registry.ts';

/**
 * What heatwatch asks of a simulated network (docs/architecture.md decision 9: the simulator is the
 * judge of the rules, never read by them): devices that publish through the broker with real device
 * credentials, started and stopped as a module. The simulator itself lives outside src/
 * (`firmware-sim/`); src/app/inputs.ts takes a factory from `StartOptions.simulator` or loads the adapter
 * module named by `sim.adapter`, which exports `createSimulator`.
 */
export interface SimulatorSettings {
  registry: RegistryIndex;
  scenario: SimConfig;
  clock: Clock;
  brokerUrl: string;
  /** Group key for device passwords; absent: devices connect without credentials. */
  deviceKey?: string;
  topicRoot: string;
  weatherStation?: string;
  log: Logger;
}

export interface Simulator {
  start(): Promise<unknown>;
  stop(): Promise<void>;
}

export type SimulatorFactory = (s: SimulatorSettings) => Simulator;

/** The package root: `sim.adapter` paths are relative to it, whatever the working directory. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Loads `createSimulator` from the adapter module at `path` (absolute, or relative to the package). */
export async function loadSimulator(path: string): Promise<SimulatorFactory> {
  const file = isAbsolute(path) ? path : resolve(PACKAGE_ROOT, path);
  const mod = (await import(pathToFileURL(file).href)) as { createSimulator?: unknown };
  if (typeof mod.createSimulator !== 'function')
    throw new Error(`sim.adapter ${path}: the module does not export a createSimulator function`);
  return mod.createSimulator as SimulatorFactory;
}
