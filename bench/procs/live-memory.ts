/**
 * Memory of the whole process holding a network of N room sensors, in a fresh process run with
 * --expose-gc. The network config is generated here as network.yaml would give it (substations of 20
 * buildings of 10 floors × 6 units, a sensor in every 5th unit, ids by default), validated by the
 * config schema and kept, as the service keeps it; then the registry index, then LiveState with two
 * readings per sensor (the newest and the one before it, as ingestion leaves it). RSS and V8 heap are
 * read after a full collection at each stage; peak RSS is the kernel's high-water mark.
 *
 *   node --expose-gc --import tsx bench/procs/live-memory.ts SENSORS
 */
import { readFileSync } from 'node:fs';
import { networkSchema, toRegistry } from '../../src/config/network-schema.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { RegistryIndex } from '../../src/core/registry.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { sayResult } from '../lib.ts';

const sensors = Number(process.argv[2] ?? 100_000);
const FLOORS = 10;
const UNITS = 6;
const PER_BUILDING = 12;
const PER_SUBSTATION = 20;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const round1 = (x: number) => Math.round(x * 10) / 10;
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rssMb: m.rss / 2 ** 20, heapMb: m.heapUsed / 2 ** 20 };
};
const peakRssMb = (): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};

/** network.yaml as an engineer would write it for this estate, before validation. */
function networkConfig(n: number): unknown {
  const substations: unknown[] = [];
  const buildings: unknown[] = [];
  const stride = (FLOORS * UNITS) / PER_BUILDING;
  for (let b = 0, left = n; left > 0; b++) {
    if (b % PER_SUBSTATION === 0)
      substations.push({
        id: `ss${b / PER_SUBSTATION}`,
        curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 },
      });
    const list: Array<{ floor: number; column: number }> = [];
    for (let u = 0; u < FLOORS * UNITS && left > 0; u += stride, left--)
      list.push({ floor: 1 + Math.floor(u / UNITS), column: 1 + (u % UNITS) });
    buildings.push({
      id: `b${b}`,
      substation: `ss${Math.floor(b / PER_SUBSTATION)}`,
      floors: FLOORS,
      unitsPerFloor: UNITS,
      sensors: list,
    });
  }
  return { substations, buildings };
}

const base = mem();
const network = networkSchema.parse(networkConfig(sensors));
const config = mem();
const index = new RegistryIndex(toRegistry(network));
const registry = mem();
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
const full = mem();
sayResult({
  sensors: index.sensors.size,
  baseMb: round1(base.rssMb),
  configMb: round1(config.rssMb - base.rssMb),
  registryMb: round1(registry.rssMb - config.rssMb),
  liveStateMb: round1(full.rssMb - registry.rssMb),
  totalRssMb: round1(full.rssMb),
  peakRssMb: round1(peakRssMb()),
  heapUsedMb: round1(full.heapMb),
  heapConfigMb: round1(config.heapMb - base.heapMb),
  heapRegistryMb: round1(registry.heapMb - config.heapMb),
  heapLiveMb: round1(full.heapMb - registry.heapMb),
  bytesPerSensor: Math.round(((full.rssMb - base.rssMb) * 2 ** 20) / sensors),
  // keep everything reachable until measured, as the service does
  probe: [network.buildings.length, live.sensor(index.sensors.keys().next().value ?? '')?.tempC],
});
