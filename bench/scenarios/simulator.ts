/**
 * Scenario 7, simulator: `npm run sim -- --sensors 100000` (its own process) in real time against a
 * Mosquitto of our own, a counting subscriber beside it. After the simulator's first progress line,
 * CPU seconds of the simulator process are read from /proc over a bounded wall window; the ratio is
 * CPU seconds per wall second (share of one core), and messages the broker delivered against the
 * simulator's own published count.
 */
import { spawn } from 'node:child_process';
import { benchChild, cpuSecondsOf, endChild, pad, ratio, startMosquitto } from '../lib.ts';
import type { CounterResult } from './ingest-ceiling.ts';

const SYNTHETIC_INTERVAL_S = 300;

export interface SimFigures {
  sensors: number;
  windowS: number;
  cpuS: number;
  coreShare: number;
  publishedReadings: number;
  readingsPerS: number;
  /** Readings/s against sensors / report interval (synthetic networks report every 300 s). */
  rateRatio: number;
  deliveredTelemetryMessages: number;
  rssMb: number;
}

export async function runSimulator(opts: { sensors: number; windowS: number }): Promise<SimFigures> {
  const broker = await startMosquitto();
  const root = `bench${process.pid}sim`;
  try {
    const counter = benchChild<CounterResult>(
      'bench/procs/counter.ts',
      [broker.url, `${root}/sensors/+/telemetry`, String(Number.MAX_SAFE_INTEGER), '4000', '5'],
      { timeoutMs: 300_000 },
    );
    await counter.ready;
    const sim = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'firmware-sim/cli.ts',
        '--broker',
        broker.url,
        '--sensors',
        String(opts.sensors),
        '--topic-root',
        root,
        '--status-s',
        '1',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, HEATWATCH_LOG_LEVEL: 'info' } },
    );
    const progress: Array<{ messagesPublished?: number; readings?: number }> = [];
    let markStarted: () => void = () => {};
    const started = new Promise<void>((r) => {
      markStarted = r;
    });
    let buf = '';
    sim.stdout?.on('data', (b: Buffer) => {
      buf += b.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
        if (line.includes('"progress"')) {
          progress.push(JSON.parse(line) as { readings?: number });
          markStarted();
        }
      }
    });
    const bound = setTimeout(() => markStarted(), 240_000);
    await started;
    clearTimeout(bound);
    const cpu0 = cpuSecondsOf(sim.pid ?? 0);
    const t0 = performance.now();
    const readings0 = progress.at(-1)?.readings ?? 0;
    await new Promise((r) => setTimeout(r, opts.windowS * 1000));
    const cpu1 = cpuSecondsOf(sim.pid ?? 0);
    const wallS = (performance.now() - t0) / 1000;
    const rssMb = Number(/VmRSS:\s*(\d+)/.exec(await readStatus(sim.pid ?? 0))?.[1] ?? 0) / 1024;
    const readings1 = progress.at(-1)?.readings ?? 0;
    await endChild(sim, 20_000);
    const delivered = await counter.result;
    const cpuS = cpu1 - cpu0;
    return {
      sensors: opts.sensors,
      windowS: Math.round(wallS),
      cpuS: Math.round(cpuS * 100) / 100,
      coreShare: ratio(cpuS, wallS),
      publishedReadings: readings1 - readings0,
      readingsPerS: Math.round((readings1 - readings0) / wallS),
      rateRatio: ratio((readings1 - readings0) / wallS, opts.sensors / SYNTHETIC_INTERVAL_S),
      deliveredTelemetryMessages: delivered.messages,
      rssMb: Math.round(rssMb),
    };
  } finally {
    await broker.stop();
  }
}

async function readStatus(pid: number): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
}

export function formatSimulator(f: SimFigures): string {
  return [
    `simulator: ${f.sensors} sensors in real time (speed 1), own process, Mosquitto of our own`,
    `  window ${f.windowS} s: CPU ${f.cpuS} s = ${f.coreShare.toFixed(2)} of one core, RSS ${f.rssMb} MB`,
    `  readings published in window ${pad(f.publishedReadings, 7)} (${f.readingsPerS}/s, ${f.rateRatio.toFixed(2)} of sensors/interval); telemetry messages a counting subscriber got over the run: ${f.deliveredTelemetryMessages}`,
  ].join('\n');
}
