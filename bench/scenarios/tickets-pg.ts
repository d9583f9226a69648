/**
 * The ticket path of a city on PostgreSQL (issue #16): two heatwatch instances, each a process with
 * its own connection pool (bench/procs/ticket-path.ts), share one schema of the machine's
 * PostgreSQL and take `n` substations through propose → approve → apply → re-check, both writing in
 * every phase. Per action: the city's throughput (actions of both instances over the phase's wall
 * time) and each instance's p50/p99 latency. Afterwards the database must hold `n` resolved tickets,
 * each re-check recorded once. Run by name (needs the server):
 *
 *   npm run bench -- tickets-pg [--sizes 1000,10000] [--concurrency 8]
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { openPostgres } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { ticketSqlMigrations } from '../../src/tickets/migrations.ts';
import { benchChild, pad } from '../lib.ts';
import type { PhaseFigures } from '../procs/ticket-path.ts';

const PG_URL = process.env.HEATWATCH_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const ACTIONS = ['propose', 'approve', 'apply', 'recheck'] as const;
type Action = (typeof ACTIONS)[number];
type InstanceFigures = Record<Action, PhaseFigures> & { recheck: { due: number; lost: number } };

export interface TicketsPgRow {
  substations: number;
  concurrency: number;
  action: Action;
  /** Actions of both instances per second of the phase (first start to last end). */
  perS: number;
  /** Each instance's latencies, instance 0 then 1. */
  p50Ms: number[];
  p99Ms: number[];
  maxMs: number[];
  ops: number[];
  /** CPU of each instance's process over the phase, in cores (1 = one core busy all the phase). */
  cores: number[];
}

export interface TicketsPgFigures {
  rows: TicketsPgRow[];
  /**
   * Load average (1 min) of the machine before and after each size, and the cores busy over the
   * size's run (every process: both instances, PostgreSQL, and whatever else the machine ran).
   */
  load: Array<{ substations: number; before: number; after: number; busyCores: number }>;
}

/** Busy and total jiffies of all cores since boot (/proc/stat, Linux). */
function cpuJiffies(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

async function withSchema<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `hw_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${name}`);
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${name}`);
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
    await admin.end();
  }
}

/** The whole path for `n` substations; checks the end state before returning the figures. */
async function runSize(n: number, concurrency: number, poolSize: number): Promise<InstanceFigures[]> {
  return withSchema(async (url) => {
    const sql = await openPostgres(url, {
      poolSize: 2,
      connectTimeoutMs: 5000,
      statementTimeoutMs: 60_000,
      idleTimeoutMs: 30_000,
    });
    try {
      await migrateSql(sql, ticketSqlMigrations);
      const children = [0, 1].map(
        (me) =>
          benchChild<InstanceFigures>(
            'bench/procs/ticket-path.ts',
            [url, String(me), String(n), String(concurrency), String(poolSize)],
            { timeoutMs: 900_000 },
          ).result,
      );
      const figures = await Promise.all(children);
      const counts = await sql.all<{ status: string; count: number }>(
        'SELECT status, count(*)::int AS count FROM tickets GROUP BY status',
      );
      const recorded = await sql.get<{ count: number }>(
        'SELECT count(*)::int AS count FROM ticket_rechecks WHERE done_ts IS NOT NULL',
      );
      const resolved = counts.find((c) => c.status === 'resolved')?.count ?? 0;
      const once = figures[0]!.recheck.ops + figures[1]!.recheck.ops;
      if (resolved !== n || recorded?.count !== n || once !== n)
        throw new Error(
          `${n} substations: ${resolved} resolved, ${recorded?.count} re-checks done, ${once} recorded by the instances`,
        );
      return figures;
    } finally {
      await sql.close();
    }
  });
}

export async function runTicketsPg(opts: {
  sizes: number[];
  concurrency: number;
  poolSize: number;
}): Promise<TicketsPgFigures> {
  const rows: TicketsPgRow[] = [];
  const load: TicketsPgFigures['load'] = [];
  for (const n of opts.sizes) {
    const before = loadavg()[0]!;
    const j0 = cpuJiffies();
    const figures = await runSize(n, opts.concurrency, opts.poolSize);
    const j1 = cpuJiffies();
    const cores = (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm) ?? []).length;
    const busyCores = Math.round(((j1.busy - j0.busy) / (j1.total - j0.total)) * cores * 100) / 100;
    load.push({ substations: n, before, after: loadavg()[0]!, busyCores });
    for (const action of ACTIONS) {
      const f = figures.map((x) => x[action]);
      const wallMs = Math.max(...f.map((x) => x.endMs)) - Math.min(...f.map((x) => x.startMs));
      const ops = f.map((x) => x.ops);
      const round = (xs: number[]) => xs.map((x) => Math.round(x * 10) / 10);
      rows.push({
        substations: n,
        concurrency: opts.concurrency,
        action,
        perS: Math.round((ops[0]! + ops[1]!) / (wallMs / 1000)),
        p50Ms: round(f.map((x) => x.p50Ms)),
        p99Ms: round(f.map((x) => x.p99Ms)),
        maxMs: round(f.map((x) => x.maxMs)),
        ops,
        cores: f.map((x) => Math.round((x.cpuMs / wallMs) * 100) / 100),
      });
    }
  }
  return { rows, load };
}

export function formatTicketsPg(f: TicketsPgFigures): string {
  const out = [
    'tickets-pg: two instances (processes) on one PostgreSQL schema, each action timed with both writing',
    '  substations  action    actions/s   p50 ms (inst 0 / 1)   p99 ms (inst 0 / 1)   max ms   done by each   cores (inst 0 / 1)',
  ];
  for (const r of f.rows)
    out.push(
      `  ${pad(r.substations, 11)}  ${r.action.padEnd(8)} ${pad(r.perS, 10)}   ${pad(r.p50Ms.join(' / '), 19)}   ${pad(r.p99Ms.join(' / '), 19)}   ${pad(Math.max(...r.maxMs), 6)}   ${r.ops.join(' + ').padStart(12)}   ${pad(r.cores.join(' / '), 18)}`,
    );
  for (const l of f.load)
    out.push(
      `  ${l.substations}: load average (1 min) ${l.before.toFixed(1)} before, ${l.after.toFixed(1)} after; ${l.busyCores} cores busy over the run`,
    );
  return out.join('\n');
}
