import type { SimulatorFactory } from '../src/sim/port.ts';
import { SimRunner } from './runner.ts';

/**
 * The demo network's simulator as heatwatch's simulator port (src/sim/port.ts): what `npm start`
 * runs beside the service. `sim.adapter` in heatwatch.yaml names this file.
 */
export const createSimulator: SimulatorFactory = (s) =>
  new SimRunner({
    registry: s.registry,
    scenario: s.scenario,
    clock: s.clock,
    brokerUrl: s.brokerUrl,
    deviceKey: s.deviceKey,
    topicRoot: s.topicRoot,
    weatherStation: s.weatherStation,
    log: s.log,
  });
