/**
 * The benchmark's publisher, in its own process (as a field of sensors would be): `count` room
 * readings at QoS 1, round-robin over the demo network's sensors, with at most `window` unacknowledged.
 * Prints `published <count> <ms>` when the broker has acknowledged the last one.
 * Format `chirpstack` or `tts`: the same readings as network-server uplinks of the demo network's
 * LoRaWAN sensors (firmware-sim/uplink.ts), under `{root}/`.
 */
import mqtt from 'mqtt';
import { UplinkEncoder } from '../firmware-sim/uplink.ts';
import { loadConfig } from '../src/config/loader.ts';

const [
  url = 'mqtt://127.0.0.1:1883',
  root = 'bench',
  countArg = '20000',
  windowArg = '500',
  startArg,
  format = 'native',
] = process.argv.slice(2);
const count = Number(countArg);
const window = Number(windowArg);
const registry = loadConfig('config', {}).registry;
const encoder =
  format === 'chirpstack' || format === 'tts'
    ? new UplinkEncoder(format, registry.registry.sensors, `${root}/`)
    : undefined;
const sensors = [...registry.sensors.values()]
  .filter((i) => !encoder || i.sensor.devEui)
  .map((i) => i.sensor.id);
const startTs = Number(startArg ?? Date.now() - 3_600_000);

const client = await mqtt.connectAsync(url, {
  clientId: `${root}-publisher`,
  protocolVersion: 5,
  clean: true,
});
const t0 = performance.now();
let sent = 0;
let acked = 0;
await new Promise<void>((resolve, reject) => {
  const pump = () => {
    while (sent < count && sent - acked < window) {
      const n = sent++;
      const sensor = sensors[n % sensors.length] as string;
      // ~90 bytes, as docs/architecture.md "Measured facts": ts, temp, humidity, battery, seq.
      const body = JSON.stringify({
        ts: startTs + n,
        temp: 20 + (n % 50) / 10,
        humidity: 40,
        battery: 3.01,
        seq: n,
      });
      const up = encoder?.encode(sensor, body)?.[0];
      const topic = up?.topic ?? `${root}/sensors/${sensor}/telemetry`;
      client.publish(topic, up?.payload ?? body, { qos: 1 }, (err) => {
        if (err) return reject(err);
        acked++;
        if (acked === count) resolve();
        else pump();
      });
    }
  };
  pump();
});
process.stdout.write(`published ${count} ${Math.round(performance.now() - t0)}\n`);
await client.endAsync();
