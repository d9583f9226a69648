/**
 * `npm run sim -- --broker mqtt://host:1883 --speed 360 [--config dir] [--sensors 100000]`
 *
 * Runs the simulated network alone against any MQTT broker: the demo network of the config
 * directory, or a synthetic one of `--sensors` sensors for load tests. Prints what it does every few
 * seconds and stops cleanly on SIGINT/SIGTERM (sensors marked offline, connections closed, exit 0).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/loader.ts';
import { simSchema } from '../src/config/sim-schema.ts';
import { ScaledClock } from '../src/core/clock.ts';
import { createLogger } from '../src/core/log.ts';
import { SimRunner } from './runner.ts';
import { syntheticRegistry } from './synthetic.ts';
import type { SimFormat } from './uplink.ts';

const USAGE = `usage: npm run sim -- [options]
  --broker URL        MQTT broker (default: HEATWATCH_MQTT_URL or mqtt://127.0.0.1:1883)
  --speed N           heating time runs N times faster than the wall clock (default 1)
  --config DIR        config directory: network.yaml, sim.yaml, heatwatch.yaml (default: HEATWATCH_CONFIG or config)
  --sensors N         simulate a synthetic network of N sensors instead of network.yaml
  --connection MODE   per-device | gateway | auto (default: sim.yaml devices.connection)
  --topic-root ROOT   topic root (default: heatwatch.yaml mqtt.topicRoot)
  --seed N            scenario seed (default: sim.yaml seed)
  --status-s N        seconds between progress lines (default 10)
  --format F          native | chirpstack | tts: room readings of sensors with a devEui go out as
                      ChirpStack v4 or The Things Stack v3 uplinks (default native)
Device passwords are derived from HEATWATCH_DEVICE_KEY when it is set.`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      broker: { type: 'string' },
      speed: { type: 'string' },
      config: { type: 'string' },
      sensors: { type: 'string' },
      connection: { type: 'string' },
      'topic-root': { type: 'string' },
      seed: { type: 'string' },
      'status-s': { type: 'string' },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const num = (name: string, v: string | undefined, ok: (n: number) => boolean): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!ok(n)) throw new Error(`--${name}: not a valid number: '${v}'\n${USAGE}`);
    return n;
  };
  const speed = num('speed', values.speed, (n) => n > 0 && Number.isFinite(n)) ?? 1;
  const sensors = num('sensors', values.sensors, (n) => Number.isInteger(n) && n > 0);
  const seed = num('seed', values.seed, Number.isInteger);
  const statusS = num('status-s', values['status-s'], (n) => n > 0) ?? 10;
  const dir = values.config ?? process.env.HEATWATCH_CONFIG ?? 'config';
  const config = loadConfig(dir);
  const brokerUrl = values.broker ?? process.env.HEATWATCH_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
  const format = values.format ?? 'native';
  if (!['native', 'chirpstack', 'tts'].includes(format))
    throw new Error(`--format: expected native, chirpstack or tts, got '${format}'\n${USAGE}`);
  const connection = values.connection;
  if (connection !== undefined && !['auto', 'per-device', 'gateway'].includes(connection))
    throw new Error(`--connection: expected per-device, gateway or auto, got '${connection}'`);
  const scenario = simSchema.parse({
    ...config.sim,
    ...(seed !== undefined ? { seed } : {}),
    devices: { ...config.sim.devices, ...(connection ? { connection } : {}) },
  });
  const registry = sensors
    ? syntheticRegistry({ sensors, seed: scenario.seed, intervalS: config.network.defaults.sensorIntervalS })
    : config.registry.registry;
  const log = createLogger(process.env.HEATWATCH_LOG_LEVEL ?? 'info').child({ module: 'sim' });
  const clock = new ScaledClock(speed);
  const runner = new SimRunner({
    registry,
    scenario,
    clock,
    brokerUrl,
    deviceKey: config.secrets.deviceKey,
    topicRoot: values['topic-root'] ?? config.service.mqtt.topicRoot,
    log,
    weatherStation: config.network.weatherStation,
    format: format as SimFormat,
  });
  log.info(
    {
      broker: brokerUrl,
      speed,
      sensors: registry.sensors.length,
      buildings: registry.buildings.length,
      substations: registry.substations.length,
      seed: scenario.seed,
      network: sensors ? 'synthetic' : `${dir}/network.yaml`,
      format,
    },
    'simulating',
  );
  await runner.start();

  let last = runner.stats();
  let lastWall = Date.now();
  const status = setInterval(() => {
    const s = runner.stats();
    const wallS = (Date.now() - lastWall) / 1000;
    const net = runner.network;
    log.info(
      {
        simTime: new Date(clock.now()).toISOString(),
        outdoorC: net ? Math.round(net.outdoorTempC() * 10) / 10 : undefined,
        msgPerS: Math.round((s.messagesPublished - last.messagesPublished) / wallS),
        readings: s.readingsPublished,
        batches: s.batchesPublished,
        buffered: s.buffered,
        inFlight: s.inFlight,
        connected: `${s.connected}/${s.connections}`,
        setpoints: s.setpointsApplied,
      },
      'progress',
    );
    last = s;
    lastWall = Date.now();
  }, statusS * 1000);

  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig }, 'stopping');
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  clearInterval(status);
  await runner.stop();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`heatwatch sim: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
