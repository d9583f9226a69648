/**
 * RSS of heatwatch's live state for N sensors (synthetic network, 12 sensors per building), in a
 * fresh process run with --expose-gc: RSS after the imports (reference), after the registry index,
 * and after LiveState holds one reading per sensor (the newest and the one before it, as ingestion
 * leaves it).
 *
 *   node --expose-gc --import tsx bench/procs/live-memory.ts SENSORS
 */

import { syntheticRegistry } from '../../firmware-sim/synthetic.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { RegistryIndex } from '../../src/core/registry.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { sayResult } from '../lib.ts';

const sensors = Number(process.argv[2] ?? 100_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rssMb = () => {
  gc();
  gc();
  return process.memoryUsage().rss / 2 ** 20;
};
const baseMb = rssMb();
const index = new RegistryIndex(syntheticRegistry({ sensors }));
const registryMb = rssMb();
const live = new LiveState(index);
const T0 = Date.UTC(2026, 0, 15);
for (const round of [0, 1]) {
  let batch: RoomReading[] = [];
  for (const info of index.sensors.values()) {
    batch.push({
      sensorId: info.sensor.id,
      buildingId: info.building.id,
      substationId: info.substation.id,
      floor: info.sensor.floor,
      column: info.sensor.column,
      classes: info.classes,
      source: 'sensor',
      ts: T0 + round * 300_000,
      tempC: 20 + round * 0.1 + (batch.length % 20) / 10,
      humidityPct: 40,
      batteryV: 3.0,
      seq: round,
    });
    if (batch.length === 10_000) {
      live.applyRoom(batch);
      batch = [];
    }
  }
  live.applyRoom(batch);
}
const liveMb = rssMb();
const round1 = (x: number) => Math.round(x * 10) / 10;
sayResult({
  sensors,
  baseMb: round1(baseMb),
  registryMb: round1(registryMb - baseMb),
  liveStateMb: round1(liveMb - registryMb),
  totalRssMb: round1(liveMb),
  bytesPerSensor: Math.round(((liveMb - baseMb) * 2 ** 20) / sensors),
  heapUsedMb: round1(process.memoryUsage().heapUsed / 2 ** 20),
  // keep `live` reachable until measured
  probe: live.sensor(index.sensors.keys().next().value ?? '')?.tempC,
});
