import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import type { HeatwatchConfig } from '../../src/config/loader.ts';
import { type Logger, silentLogger } from '../../src/core/log.ts';
import { type Heatwatch, startHeatwatch } from '../../src/main.ts';
import { deriveDevicePassword } from '../../src/mqtt/auth.ts';

export const DEVICE_KEY = 'test-device-key-0123456789';

export function tempDir(prefix = 'hw-ingest-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** heatwatch in-process on the demo network, ingestion only, everything on free ports and a temp dir. */
export function startIngest(
  dataDir: string,
  configure?: (c: HeatwatchConfig) => void,
  env: Record<string, string | undefined> = {},
): Promise<Heatwatch> {
  return startHeatwatch({
    configDir: 'config',
    env: { HEATWATCH_DATA_DIR: dataDir, HEATWATCH_DEVICE_KEY: DEVICE_KEY, HEATWATCH_SIM: 'off', ...env },
    log: silentLogger(),
    ingestOnly: true,
    configure: (c) => {
      c.service.mqtt.port = 0;
      c.service.http.port = 0;
      c.service.ingest.flushIntervalMs = 20;
      // The tests publish faster than a real sensor; the broker's per-device budget is not under test.
      c.service.mqtt.limits.devicePublishesPerMin = 1_000_000;
      configure?.(c);
    },
  });
}

/** Connects as a device of the embedded broker (derived password) or anonymously (Mosquitto). */
export async function connectDevice(
  url: string,
  deviceId: string,
  withCredentials: boolean,
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: `${deviceId}-${Math.floor(Math.random() * 1e9)}`,
    username: withCredentials ? deviceId : undefined,
    password: withCredentials ? deriveDevicePassword(DEVICE_KEY, deviceId) : undefined,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
  });
}

/**
 * Publishes `perSensor` readings (QoS 1) from each sensor, or fewer if `stopWhen` turns true first;
 * returns what was sent, keyed `sensor@ts`.
 * Timestamps step back one second per reading from `nowMs`, so all are unique and within the limits.
 */
export async function publishReadings(
  url: string,
  root: string,
  sensorIds: readonly string[],
  perSensor: number,
  nowMs: number,
  withCredentials: boolean,
  opts: { between?: (i: number) => Promise<void>; stopWhen?: () => boolean } = {},
): Promise<Set<string>> {
  const sent = new Set<string>();
  const clients = await Promise.all(sensorIds.map((id) => connectDevice(url, id, withCredentials)));
  try {
    for (let i = 0; i < perSensor && !opts.stopWhen?.(); i++) {
      await Promise.all(
        sensorIds.map((id, k) => {
          const ts = nowMs - (perSensor - i) * 1000 - k;
          sent.add(`${id}@${ts}`);
          return clients[k]?.publishAsync(
            `${root}/sensors/${id}/telemetry`,
            JSON.stringify({ ts, temp: 20 + (i % 10) / 10 }),
            {
              qos: 1,
            },
          );
        }),
      );
      await opts.between?.(i);
    }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
  }
  return sent;
}

export interface StoredRow {
  sensor_id: string;
  ts: number;
  building_id: string;
  classes: number;
  source: string;
}

export function storedRows(file: string): StoredRow[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare('SELECT sensor_id, ts, building_id, classes, source FROM room_readings')
      .all() as StoredRow[];
  } finally {
    db.close();
  }
}

/** Polls `cond` (wall clock: real servers are involved) until true or the deadline. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * `node <args>` as a person starts heatwatch (`src/main.ts`, `bin/heatwatch.js start`), on free ports
 * and the given data directory, with the simulator off; its stdout and stderr are collected.
 */
export function spawnService(
  args: string[],
  ports: { mqtt: number; http: number },
  dataDir: string,
  env: Record<string, string> = {},
): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, args, {
    env: {
      ...process.env,
      HEATWATCH_DATA_DIR: dataDir,
      HEATWATCH_MQTT_PORT: String(ports.mqtt),
      HEATWATCH_HTTP_PORT: String(ports.http),
      HEATWATCH_SIM: 'off',
      HEATWATCH_DEVICE_KEY: 'spawned-service-key',
      HEATWATCH_MQTT_PASSWORD: 'spawned-service-password',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString();
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, output: () => out, exited };
}

/** A copy of the repository's config in `dir` with `ops.kind: postgres`; returns its directory. */
export function postgresConfig(dir: string): string {
  const configDir = join(dir, 'config');
  cpSync('config', configDir, { recursive: true });
  const file = join(configDir, 'heatwatch.yaml');
  const text = readFileSync(file, 'utf8');
  if (!/^ops:\n {2}kind: sqlite$/m.test(text))
    throw new Error('config/heatwatch.yaml: no `ops:\\n  kind: sqlite`');
  writeFileSync(file, text.replace(/^ops:\n {2}kind: sqlite$/m, 'ops:\n  kind: postgres'));
  return configDir;
}

/**
 * A heatwatch instance on a city's PostgreSQL, in-process on its own ports and data directory: the
 * environment every PostgreSQL test starts from, plus the test's own `env` and `configure`.
 */
export function startOnPostgres(o: {
  configDir: string;
  dataDir: string;
  url: string;
  env?: Record<string, string>;
  configure?: (c: HeatwatchConfig) => void;
  /** Default: silent. */
  log?: Logger;
}): Promise<Heatwatch> {
  return startHeatwatch({
    configDir: o.configDir,
    env: {
      HEATWATCH_DATA_DIR: o.dataDir,
      HEATWATCH_DEVICE_KEY: DEVICE_KEY,
      HEATWATCH_SIM: 'off',
      HEATWATCH_PG_URL: o.url,
      ...o.env,
    },
    log: o.log ?? silentLogger(),
    watchConfig: false,
    configure: (c) => {
      c.service.mqtt.port = 0;
      c.service.http.port = 0;
      o.configure?.(c);
    },
  });
}
