import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/servers.ts';

/** A time-series server started for one test file, on loopback ports the OS picked. */
export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export const VICTORIA_METRICS_BIN = '/usr/bin/victoria-metrics';
export const INFLUXD_BIN = '/usr/bin/influxd';
export const hasVictoriaMetrics = (): boolean => existsSync(VICTORIA_METRICS_BIN);
export const hasInfluxd = (): boolean => existsSync(INFLUXD_BIN);

async function waitReady(url: string, proc: ChildProcess, logs: () => string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${logs()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(500) });
      await res.body?.cancel();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} not ready within ${timeoutMs} ms:\n${logs()}`);
}

function spawnServer(bin: string, args: string[], dir: string) {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { proc, logs: () => out, stop };
}

/**
 * VictoriaMetrics accepts the InfluxDB v2 write API and exports what it stored. The long retention
 * lets tests write readings stamped at the ManualClock's fixed date in the past.
 */
export async function startVictoriaMetrics(): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-vm-'));
  const port = await freePort();
  const s = spawnServer(
    VICTORIA_METRICS_BIN,
    [
      `-storageDataPath=${join(dir, 'data')}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      // One sample per series and millisecond: a re-written point replaces the first, as in InfluxDB.
      '-dedup.minScrapeInterval=1ms',
      '-search.disableCache',
      '-loggerLevel=ERROR',
    ],
    dir,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/health`, s.proc, s.logs);
  return { url, stop: s.stop };
}

/** InfluxDB 1.6 with its own data, meta and WAL directories, HTTP and RPC on free loopback ports. */
export async function startInfluxd(): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-enabled = false',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '  logging-enabled = false',
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  auth-enabled = false',
      '  log-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '[logging]',
      '  level = "error"',
      '',
    ].join('\n'),
  );
  const s = spawnServer(INFLUXD_BIN, ['-config', conf], dir);
  const url = `http://127.0.0.1:${httpPort}`;
  await waitReady(`${url}/ping`, s.proc, s.logs);
  return { url, stop: s.stop };
}

/** Runs an InfluxQL statement that changes state (CREATE/DROP DATABASE), which needs POST on 1.x. */
export async function influxAdmin(url: string, q: string): Promise<void> {
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ q }),
  });
  const body = (await res.json()) as { results?: Array<{ error?: string }>; error?: string };
  const err = body.error ?? body.results?.[0]?.error;
  if (!res.ok || err) throw new Error(`${q}: ${err ?? res.status}`);
}

/** Writes line protocol through InfluxDB 1.x's own `/write`, ms precision. */
export async function influxV1Write(url: string, db: string, lines: string[]): Promise<void> {
  const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=ms`, {
    method: 'POST',
    body: lines.join('\n'),
  });
  if (res.status !== 204) throw new Error(`/write: ${res.status} ${await res.text()}`);
}

/**
 * InfluxDB 1.6 serves `/write` but not `/api/v2/write` (1.8 added it). This loopback relay hands a v2
 * write to 1.6's `/write` with the same body, encoding and precision (bucket → db) and forwards every
 * other request unchanged, so the real client library's write path runs against a real InfluxDB.
 */
export async function startV2WriteRelay(targetUrl: string): Promise<RunningServer & { seenAuth: string[] }> {
  const seenAuth: string[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const u = new URL(req.url ?? '/', 'http://relay');
      // The Authorization header of each write and query, so a test can see the token was sent.
      if (u.pathname === '/api/v2/write' || u.pathname === '/query')
        seenAuth.push(req.headers.authorization ?? '');
      let path = `${u.pathname}${u.search}`;
      if (u.pathname === '/api/v2/write') {
        const q = new URLSearchParams({
          db: u.searchParams.get('bucket') ?? '',
          precision: u.searchParams.get('precision') ?? 'ns',
        });
        path = `/write?${q}`;
      }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const headers: Record<string, string> = {};
      for (const h of ['content-type', 'content-encoding', 'authorization', 'accept']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const method = req.method ?? 'GET';
      const upstream = await fetch(`${targetUrl}${path}`, {
        method,
        headers,
        body: method === 'GET' || method === 'HEAD' ? undefined : Buffer.concat(chunks),
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      const type = upstream.headers.get('content-type');
      res.writeHead(upstream.status, type ? { 'content-type': type } : {});
      res.end(body);
    } catch (err) {
      res.writeHead(502);
      res.end(String(err));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    seenAuth,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
