/**
 * Scenario 3, peer: the same load through heatwatch (InfluxDB store) and through the flow a heating
 * engineer would otherwise build — Node-RED, MQTT in → node-red-contrib-influxdb out — into the same
 * VictoriaMetrics, on the same Mosquitto. Both rates are measured the same way, from outside: samples
 * appearing in VictoriaMetrics, polled by this process; what each lost is what never arrived there.
 * Node-RED is installed on demand into bench/.peer (bench/peer/install.sh), never a heatwatch dependency.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasVictoriaMetrics, startVictoriaMetrics } from '../../test/storage/tsdb-servers.ts';
import { benchChild, endChild, freePort, pad, ratio, sleep, startMosquitto } from '../lib.ts';
import { peerFlow } from '../peer/flow.ts';
import { countSamples } from './influx.ts';
import type { IngestResult, LoadResult } from './ingest-ceiling.ts';

const NODE_RED_BIN = 'bench/.peer/node_modules/.bin/node-red';

export interface PeerRow {
  receiver: 'heatwatch' | 'node-red';
  readings: number;
  storedPerS: number;
  stored: number;
  lost: number;
  publisherFailed: number;
  /** Node-RED only: its log lines that report an error or a lost connection, and the last few. */
  logErrors?: number;
  logTail?: string[];
}
export interface PeerFigures {
  readings: number;
  rows: PeerRow[];
  ratio: number;
}

/** Polls VictoriaMetrics until `expected` samples are there or none arrived for `idleMs`. */
async function watchStored(vmUrl: string, metric: string, expected: number, idleMs: number, maxMs: number) {
  let count = 0;
  let firstAt = 0;
  let firstCount = 0;
  let lastAt = 0;
  let lastChange = performance.now();
  const end = performance.now() + maxMs;
  while (performance.now() < end) {
    const n = await countSamples(vmUrl, metric);
    const now = performance.now();
    if (n !== count) {
      if (count === 0) {
        firstAt = now;
        firstCount = n;
      }
      count = n;
      lastAt = now;
      lastChange = now;
    }
    if (count >= expected || (count > 0 && now - lastChange > idleMs)) break;
    await sleep(250);
  }
  const s = (lastAt - firstAt) / 1000;
  return { count, perS: s > 0 ? Math.round((count - firstCount) / s) : 0 };
}

function ensureNodeRed(): string | undefined {
  if (existsSync(NODE_RED_BIN)) return undefined;
  const r = spawnSync('sh', ['bench/peer/install.sh'], { stdio: 'inherit', timeout: 300_000 });
  return r.status === 0 && existsSync(NODE_RED_BIN)
    ? undefined
    : `Node-RED install failed (bench/peer/install.sh exited ${r.status ?? r.signal})`;
}

export async function runPeer(opts: { readings: number }): Promise<PeerFigures | { skipped: string }> {
  if (!hasVictoriaMetrics()) return { skipped: 'victoria-metrics not installed' };
  const failed = ensureNodeRed();
  if (failed) return { skipped: failed };
  const broker = await startMosquitto();
  const vm = await startVictoriaMetrics();
  const rows: PeerRow[] = [];
  try {
    // heatwatch, InfluxDB store.
    {
      const root = `bench${process.pid}peerhw`;
      const hw = benchChild<IngestResult>(
        'bench/procs/heatwatch-ingest.ts',
        [
          JSON.stringify({
            url: broker.url,
            root,
            expected: opts.readings,
            store: 'influxdb',
            influxUrl: vm.url,
            idleMs: 15_000,
          }),
        ],
        { timeoutMs: 300_000 },
      );
      await hw.ready;
      const load = benchChild<LoadResult>(
        'bench/procs/load.ts',
        [JSON.stringify({ url: broker.url, root, mode: 'bulk', count: opts.readings })],
        { timeoutMs: 300_000 },
      );
      const watched = await watchStored(vm.url, 'room_temp_c', opts.readings, 10_000, 240_000);
      const l = await load.result;
      await hw.result;
      const stored = await countSamples(vm.url, 'room_temp_c');
      rows.push({
        receiver: 'heatwatch',
        readings: opts.readings,
        storedPerS: watched.perS,
        stored,
        lost: opts.readings - stored,
        publisherFailed: l.failed,
      });
    }
    // Node-RED, the same load.
    {
      const root = `bench${process.pid}peernr`;
      const dir = mkdtempSync(join(tmpdir(), 'hw-bench-nodered-'));
      const port = Number(new URL(broker.url).port);
      const flowFile = join(dir, 'flows.json');
      writeFileSync(
        flowFile,
        JSON.stringify(
          peerFlow({
            mqttPort: port,
            protocolVersion: 5,
            topic: `${root}/sensors/+/telemetry`,
            influxUrl: vm.url,
            measurement: 'nodered_room',
          }),
        ),
      );
      const uiPort = await freePort();
      writeFileSync(
        join(dir, 'settings.js'),
        `module.exports = { flowFile: ${JSON.stringify(flowFile)}, uiHost: '127.0.0.1', uiPort: ${uiPort}, credentialSecret: false, logging: { console: { level: 'info' } }, editorTheme: { tours: false } };\n`,
      );
      const nr = spawn(NODE_RED_BIN, ['--userDir', dir, '--settings', join(dir, 'settings.js')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      const connected = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 120_000);
        const on = (b: Buffer) => {
          log = (log + b.toString()).slice(-20_000);
          if (/Connected to broker/.test(log)) {
            clearTimeout(t);
            resolve(true);
          }
        };
        nr.stdout?.on('data', on);
        nr.stderr?.on('data', on);
      });
      try {
        if (!(await connected))
          throw new Error(`Node-RED did not connect to the broker:\n${log.slice(-2000)}`);
        await sleep(1000); // the subscription follows the connection
        const load = benchChild<LoadResult>(
          'bench/procs/load.ts',
          [JSON.stringify({ url: broker.url, root, mode: 'bulk', count: opts.readings })],
          { timeoutMs: 300_000 },
        );
        // The InfluxDB client in the peer retries failed writes with backoff: give late writes 30 s to land.
        const watched = await watchStored(vm.url, 'nodered_room_temp', opts.readings, 30_000, 240_000);
        const l = await load.result;
        const stored = await countSamples(vm.url, 'nodered_room_temp');
        rows.push({
          receiver: 'node-red',
          readings: opts.readings,
          storedPerS: watched.perS,
          stored,
          lost: opts.readings - stored,
          publisherFailed: l.failed,
          logErrors: log.split('\n').filter((x) => /error|disconnect|timeout/i.test(x)).length,
          logTail: log
            .split('\n')
            .filter((x) => /error|disconnect|timeout/i.test(x))
            .slice(-5),
        });
      } finally {
        await endChild(nr, 10_000);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await vm.stop();
    await broker.stop();
  }
  const [h, n] = rows;
  return { readings: opts.readings, rows, ratio: ratio(h?.storedPerS ?? 0, n?.storedPerS ?? 0) };
}

export function formatPeer(f: PeerFigures | { skipped: string }): string {
  if ('skipped' in f) return `peer: skipped — ${f.skipped}`;
  const out = [
    `peer: ${f.readings} single readings, QoS 1, same Mosquitto, same VictoriaMetrics; stored rate seen in VictoriaMetrics`,
  ];
  for (const r of f.rows)
    out.push(
      `  ${r.receiver.padEnd(10)} stored ${pad(r.storedPerS, 7)} readings/s  in VictoriaMetrics ${pad(r.stored, 7)} of ${r.readings}  lost ${r.lost}${r.logErrors ? `  (${r.logErrors} error lines in its log, last: ${r.logTail?.at(-1)?.slice(0, 200)})` : ''}`,
    );
  out.push(`  heatwatch / Node-RED = ${f.ratio.toFixed(2)}`);
  return out.join('\n');
}
