/**
 * failover: how long a city's partition goes unjudged when its rules instance dies, with the lease
 * timings of config/heatwatch.yaml (`partition.leases`). Two heatwatch processes in role `rules` on
 * the machine's PostgreSQL (a fresh schema per run): the holder is SIGKILLed and the time until the
 * standby holds the partition is measured twice: from the kill (what an operator sees), and from the
 * dead holder's last renewal in the lease row (what the lease bounds: durationMs + takeoverMs).
 * The kill falls at a random point of the holder's renewal period, as a crash does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/loader.ts';
import { leases } from '../../src/ops/lease.ts';
import { openPostgres } from '../../src/storage/sql.ts';
import { postgresConfig } from '../../test/main/support.ts';
import { PG_URL, pgOptions, pgSchema } from '../../test/support/postgres.ts';
import { type RulesProcess, spawnRulesInstance } from '../../test/support/rules-process.ts';
import { portOpen } from '../../test/support/servers.ts';
import { machine, sleep } from '../lib.ts';

export interface FailoverRun {
  /** SIGKILL of the holder → the standby's lease acquisition (wall clock, one host). */
  killToTakeoverMs: number;
  /** The dead holder's last renewal → the standby's acquisition (the database's clock). */
  renewalToTakeoverMs: number;
  /** How long after its last renewal the holder was killed. */
  killAfterRenewalMs: number;
  loadAverage: number;
}
export interface FailoverFigures {
  leases: { renewMs: number; durationMs: number; takeoverMs: number };
  runs: FailoverRun[];
  machine: ReturnType<typeof machine>;
}

const started = (p: RulesProcess) => p.until((ls) => ls.some((l) => l.startsWith('ready ')));

async function oneRun(dir: string, configDir: string, i: number): Promise<FailoverRun> {
  const schema = await pgSchema();
  const db = await openPostgres(schema.url, pgOptions(1));
  const procs: RulesProcess[] = [];
  try {
    const instance = (id: string) => {
      const p = spawnRulesInstance({
        configDir,
        dataDir: join(dir, `${i}-${id}`),
        url: schema.url,
        instanceId: id,
      });
      procs.push(p);
      return p;
    };
    const a = instance('rules-a');
    await started(a);
    const b = instance('rules-b');
    await started(b);
    if (b.words('acquired').length > 0)
      throw new Error('the standby took the partition while the holder lived');
    // A random point of the renewal period, as a crash would fall.
    const { renewMs } = loadConfig(configDir, { HEATWATCH_PG_URL: schema.url }).service.partition.leases;
    await sleep(Math.random() * renewMs);
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    const [dead] = await leases(db);
    if (dead?.holder !== 'rules-a') throw new Error(`lease held by ${dead?.holder} at the kill`);
    await b.until((ls) => ls.some((l) => l.startsWith('acquired city 2 ')));
    const takenAt = Number(b.words('acquired')[0]!.split(' ')[2]);
    const [taken] = await leases(db);
    return {
      killToTakeoverMs: takenAt - killedAt,
      renewalToTakeoverMs: taken!.acquiredMs - dead.renewedMs,
      // The host's wall clock against PostgreSQL's: only meaningful with both on this machine.
      killAfterRenewalMs: killedAt - dead.renewedMs,
      loadAverage: Math.round(loadavg()[0]! * 10) / 10,
    };
  } finally {
    for (const p of procs) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    await db.close();
    await schema.drop();
  }
}

export async function runFailover(o: { runs: number }): Promise<FailoverFigures> {
  const { hostname, port } = new URL(PG_URL);
  if (!(await portOpen(Number(port || 5432), hostname)))
    throw new Error(`PostgreSQL does not answer at ${hostname}:${port || 5432}`);
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-failover-'));
  try {
    const configDir = postgresConfig(dir);
    const leasesCfg = loadConfig(configDir, { HEATWATCH_PG_URL: PG_URL }).service.partition.leases;
    const runs: FailoverRun[] = [];
    for (let i = 0; i < o.runs; i++) runs.push(await oneRun(dir, configDir, i));
    return {
      leases: {
        renewMs: leasesCfg.renewMs,
        durationMs: leasesCfg.durationMs,
        takeoverMs: leasesCfg.takeoverMs,
      },
      runs,
      machine: machine(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatFailover(f: FailoverFigures): string {
  const { renewMs, durationMs, takeoverMs } = f.leases;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const lines = f.runs.map(
    (r, i) =>
      `  run ${i + 1}: killed ${s(r.killAfterRenewalMs)} s after a renewal; taken over ${s(r.killToTakeoverMs)} s after the kill, ` +
      `${s(r.renewalToTakeoverMs)} s after the last renewal (load ${r.loadAverage})`,
  );
  const k = f.runs.map((r) => r.killToTakeoverMs);
  return [
    `failover: rules holder SIGKILLed, standby takes the partition (lease ${s(durationMs)} s, renewal ${s(renewMs)} s, takeover period ${s(takeoverMs)} s)`,
    ...lines,
    "  (a kill's time after a renewal compares this host's clock with PostgreSQL's: it assumes PostgreSQL runs on this host)",
    `  kill → takeover: ${s(Math.min(...k))}–${s(Math.max(...k))} s over ${k.length} runs; bound from the last renewal: ${s(durationMs + takeoverMs)} s`,
  ].join('\n');
}
