/**
 * What every benchmark scenario shares: free loopback ports, brokers and databases in their own
 * processes, bench scripts run as child processes that print one JSON line of figures, and the
 * results file each scenario writes. Every child is bounded by a timeout, so a scenario always stops.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Running {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** Ends a child we started: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function endChild(proc: ChildProcess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

async function waitMqtt(url: string, proc: ChildProcess, protocolVersion: 4 | 5): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`broker exited with ${proc.exitCode}`);
    try {
      const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500, protocolVersion });
      await c.endAsync();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`no broker at ${url}`);
}

/**
 * A Mosquitto of our own with the queue and in-flight window raised (docs/architecture.md: its defaults drop
 * QoS 1 messages to a slow subscriber), never the machine's shared one.
 */
export async function startMosquitto(): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-mosq-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_queued_messages 2000000',
      'max_inflight_messages 1000',
      'max_packet_size 1048576',
      '',
    ].join('\n'),
  );
  const proc = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  await waitMqtt(url, proc, 5);
  return {
    url,
    proc,
    stop: async () => {
      await endChild(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A bare aedes (the broker heatwatch embeds) in its own process: no auth, no limits. */
export async function startAedes(): Promise<Running> {
  const port = await freePort();
  const proc = spawnTs('bench/procs/aedes-broker.ts', [String(port)]);
  const url = `mqtt://127.0.0.1:${port}`;
  await waitMqtt(url, proc, 4);
  return { url, proc, stop: () => endChild(proc) };
}

export function spawnTs(script: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
}

/**
 * A bench child that prints JSON lines: `{"ready":true}` once it listens/subscribes, and a final
 * line with its figures. `ready` resolves at the first, `result` at the last line before exit.
 */
export function benchChild<T>(
  script: string,
  args: string[],
  opts: { timeoutMs: number; env?: Record<string, string>; nodeArgs?: string[] },
): { proc: ChildProcess; ready: Promise<Record<string, unknown>>; result: Promise<T> } {
  const proc = opts.nodeArgs
    ? spawn(process.execPath, [...opts.nodeArgs, '--import', 'tsx', script, ...args], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...opts.env },
      })
    : spawnTs(script, args, opts.env);
  let buf = '';
  let last: unknown;
  let markReady: (o: Record<string, unknown>) => void = () => {};
  const ready = new Promise<Record<string, unknown>>((r) => {
    markReady = r;
  });
  proc.stdout?.on('data', (b: Buffer) => {
    buf += b.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
      if (!line.startsWith('{')) continue;
      try {
        const o = JSON.parse(line) as { ready?: boolean };
        if (o.ready) markReady(o);
        else last = o;
      } catch {
        // a child's stray output is not a result
      }
    }
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs);
  const result = new Promise<T>((resolve, reject) => {
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      markReady({});
      if (last !== undefined && code === 0) resolve(last as T);
      else reject(new Error(`${script} exited ${code ?? signal} without a result`));
    });
  });
  result.catch(() => {});
  return { proc, ready, result };
}

/** Prints the line the orchestrator waits for (children call it when listening/subscribed). */
export const sayReady = (): void => void process.stdout.write('{"ready":true}\n');
export const sayResult = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11], fields[12] = utime, stime (stat fields 14 and 15) in clock ticks (100 Hz on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function writeResult(name: string, figures: unknown): string {
  mkdirSync('bench/results', { recursive: true });
  const file = join('bench/results', `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ scenario: name, at: new Date().toISOString(), ...machine(), figures }, null, 2)}\n`,
  );
  return file;
}

export function machine(): { nproc: number; cpu: string; node: string } {
  const info = readFileSync('/proc/cpuinfo', 'utf8');
  const cpu = /model name\s*:\s*(.*)/.exec(info)?.[1] ?? 'unknown';
  const nproc = (info.match(/^processor\s*:/gm) ?? []).length;
  return { nproc, cpu, node: process.version };
}

export const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
export const pad = (v: string | number, n: number): string => String(v).padStart(n);
