import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, hasCommand, portOpen, serverAvailable, uniqueRoot } from '../support/servers.ts';
import { tempDir, waitFor } from './support.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';
/**
 * Bound of each step of a life: a new Node process starts in 1.5 s idle and up to ~10 s at load
 * average 25; storing 3000 readings takes well under a second idle.
 */
const LIFE_MS = 30_000;
/** Readings published before the first life is killed (of 3000). */
const KILL_AFTER_SENT = 1000;
const children: ChildProcess[] = [];
let cleanup: (() => void) | undefined;

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.length = 0;
  cleanup?.();
});

/**
 * The broker settings docs/ingest.md asks for: a queue deep enough to hold a restart's worth of
 * readings for heatwatch's persistent session (Mosquitto's default of 1000 drops the rest).
 */
async function startMosquitto(dir: string): Promise<number> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 100000',
      'max_inflight_messages 1000',
      '',
    ].join('\n'),
  );
  const p = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  children.push(p);
  await waitFor(() => portOpen(port), 15_000, 'mosquitto to listen');
  return port;
}

function startChild(env: Record<string, string>): {
  proc: ChildProcess;
  ready: Promise<void>;
  out: () => string;
} {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'test/main/ingest-child.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const ready = waitFor(() => out.includes('ready'), LIFE_MS, `ingest child ready (output: ${out})`);
  return { proc, ready, out: () => out };
}

function storedCount(file: string): number {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM room_readings').get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0;
  }
}

describe('crash: ingestion SIGKILLed mid-stream and restarted loses nothing it was sent', () => {
  it(
    'every reading published is in the store afterwards, and a SIGTERM stops it with exit code 0',
    async (ctx) => {
      if (!serverAvailable('mosquitto', hasCommand(MOSQUITTO), `${MOSQUITTO} is not installed`))
        return ctx.skip();
      const t = tempDir();
      cleanup = t.cleanup;
      const port = await startMosquitto(t.dir);
      const root = uniqueRoot();
      const env = {
        HW_CHILD_DATA_DIR: t.dir,
        HW_CHILD_MQTT_URL: `mqtt://127.0.0.1:${port}`,
        HW_CHILD_ROOT: root,
      };
      const readingsDb = join(t.dir, 'readings.db');

      const first = startChild(env);
      await first.ready;
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        clientId: `${root}-pub`,
        protocolVersion: 5,
      });
      const sensors = ['n01-1-2', 'n01-6-1', 'n02-1-4', 'n02-3-3'];
      const total = 3000;
      const now = Date.now();
      let killed = false;
      let second: ReturnType<typeof startChild> | undefined;
      for (let i = 0; i < total; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, k) => {
            const n = i + k;
            const sensor = sensors[n % sensors.length] as string;
            const ts = now - 3_000_000 + n * 100;
            return pub.publishAsync(
              `${root}/sensors/${sensor}/telemetry`,
              JSON.stringify({ ts, temp: 20.5 }),
              {
                qos: 1,
              },
            );
          }),
        );
        // Mid-stream by construction, not by a race with the machine's load: once a third of the stream
        // is out, the stream waits until the first life has stored 600 readings, then kills it, and the
        // other two thirds go out while it is down and after its restart.
        if (!killed && i + 50 >= KILL_AFTER_SENT) {
          await waitFor(() => storedCount(readingsDb) > 600, LIFE_MS, 'the first life to store 600 readings');
          first.proc.kill('SIGKILL');
          killed = true;
          await new Promise((r) => first.proc.once('exit', r));
          second = startChild(env);
          // Awaited after the stream; observed now so a slow start is not an unhandled rejection.
          second.ready.catch(() => undefined);
        }
      }
      await pub.endAsync();
      expect(killed).toBe(true);
      if (!second) throw new Error('no restart');
      await second.ready;
      await waitFor(() => storedCount(readingsDb) >= total, LIFE_MS, `all ${total} readings stored`);
      expect(storedCount(readingsDb)).toBe(total);

      const exited = new Promise<number | null>((r) => second?.proc.once('exit', (code) => r(code)));
      second.proc.kill('SIGTERM');
      expect(await exited).toBe(0);
    },
    4 * LIFE_MS,
  );
});
