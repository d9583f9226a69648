import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type RulesConfig, rulesSchema } from '../config/rules-schema.ts';
import { ManualClock } from '../core/clock.ts';
import { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import { silentLogger } from '../core/log.ts';
import { type RoomReading, roomReadingOf } from '../core/readings.ts';
import type { RegistryIndex } from '../core/registry.ts';
import { RulesEngine } from '../rules/engine.ts';
import { LiveState } from '../state/live-state.ts';
import { createReadingStore } from '../storage/create-store.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import { sqliteSql } from '../storage/sql.ts';
import { openDb } from '../storage/sqlite.ts';
import { ticketMigrations } from '../tickets/migrations.ts';
import { TicketService } from '../tickets/ticket-service.ts';
import type { Ticket } from '../tickets/types.ts';
import { commandArgs, configDir, loadConfigOrReport } from './command.ts';

/**
 * Replays a stored period through the rules with proposed thresholds and returns the tickets they
 * would have raised. Nothing is published and nothing is approved: the replay has its own in-memory
 * ticket database and a publisher that refuses. Room readings come from the store's history at the
 * rules' tick interval; outdoor temperature from the substation meters. Forecasts are not stored, so
 * the cold-spell rule stays silent in a replay.
 */
export async function dryRun(opts: {
  store: Pick<ReadingStore, 'roomHistory' | 'substationHistory'>;
  registry: RegistryIndex;
  rules: RulesConfig;
  fromMs: number;
  toMs: number;
}): Promise<{ tickets: Ticket[]; ticks: number; readings: number }> {
  const rules: RulesConfig = { ...opts.rules, autoApprove: { ...opts.rules.autoApprove, enabled: false } };
  const stepMs = rules.tick.intervalS * 1000;
  const clock = new ManualClock(opts.fromMs);
  const live = new LiveState(opts.registry);
  const db = openDb(':memory:', { synchronous: 'NORMAL', migrations: ticketMigrations });
  const refuse = {
    async publish(): Promise<void> {
      throw new Error('dry run: nothing is published');
    },
  };
  const log = silentLogger();
  const tickets = new TicketService(
    sqliteSql(db),
    clock,
    new EventBus<HeatEvents>(),
    refuse,
    () => rules,
    log,
  );
  const engine = new RulesEngine(clock, live, tickets, rules, log);
  // Load each sensor's history once, bucketed at the tick interval, and index it by bucket start.
  const byTs = new Map<number, RoomReading[]>();
  let readings = 0;
  for (const info of opts.registry.sensors.values()) {
    const pts = await opts.store.roomHistory({
      sensorId: info.sensor.id,
      fromMs: opts.fromMs,
      toMs: opts.toMs,
      everyMs: stepMs,
    });
    for (const p of pts) {
      readings++;
      const list = byTs.get(p.ts) ?? [];
      list.push(roomReadingOf(info, p.ts, p.meanC, 'sensor'));
      byTs.set(p.ts, list);
    }
  }
  const outdoor = new Map<number, number>();
  for (const sid of opts.registry.substations.keys())
    for (const p of await opts.store.substationHistory({
      substationId: sid,
      fromMs: opts.fromMs,
      toMs: opts.toMs,
      everyMs: stepMs,
    }))
      if (p.outdoorTempC !== undefined) outdoor.set(p.ts, p.outdoorTempC);
  let ticks = 0;
  for (let t = Math.floor(opts.fromMs / stepMs) * stepMs; t < opts.toMs; t += stepMs) {
    clock.set(t + stepMs);
    const batch = byTs.get(t);
    // Bucket means stand for the bucket's end, when the replayed rules would have seen them.
    if (batch) live.applyRoom(batch.map((r) => ({ ...r, ts: t + stepMs - 1 })));
    const o = outdoor.get(t);
    if (o !== undefined) live.applyObservation({ stationId: 'replay', ts: t + stepMs - 1, outdoorTempC: o });
    await engine.tick();
    ticks++;
  }
  const out = await tickets.list();
  db.close();
  return { tickets: out, ticks, readings };
}

const parseTime = (s: string | undefined, name: string): number => {
  const ms = s === undefined ? Number.NaN : /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(ms))
    throw new Error(`--${name} needs a date (ISO 8601) or epoch ms, got '${s ?? ''}'`);
  return ms;
};

const USAGE = `usage: heatwatch dry-run --from DATE --to DATE [--rules FILE] [--config DIR]
  Replays the stored readings of a period through the rules and lists the tickets they would have
  raised; nothing is published or approved.
  --from, --to  the period: ISO 8601 or epoch ms
  --rules FILE  proposed rules (rules.yaml form) instead of the config directory's
  --config DIR  config directory (default: $HEATWATCH_CONFIG or config)\n`;

/** `dry-run --from <date> --to <date> [--rules file.yaml] [--config dir]` */
export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs(args, USAGE, {
    from: { type: 'string' },
    to: { type: 'string' },
    rules: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const config = loadConfigOrReport(configDir(values.config));
  if (typeof config === 'number') return config;
  let rules = config.rules;
  if (values.rules) {
    let raw: unknown;
    try {
      raw = parse(readFileSync(values.rules, 'utf8')) ?? {};
    } catch (err) {
      process.stderr.write(`${values.rules}: (root): ${(err as Error).message.split('\n')[0]}\n`);
      return 1;
    }
    const parsed = rulesSchema.safeParse(raw);
    if (!parsed.success) {
      for (const i of parsed.error.issues)
        process.stderr.write(`${values.rules}: ${i.path.map(String).join('.') || '(root)'}: ${i.message}\n`);
      return 1;
    }
    rules = parsed.data;
  }
  let fromMs: number;
  let toMs: number;
  try {
    fromMs = parseTime(values.from, 'from');
    toMs = parseTime(values.to, 'to');
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const clock = new ManualClock(toMs);
  const store = createReadingStore(config.service, config.secrets, clock, silentLogger());
  await store.start();
  try {
    const r = await dryRun({ store, registry: config.registry, rules, fromMs, toMs });
    process.stdout.write(
      `replayed ${new Date(fromMs).toISOString()} → ${new Date(toMs).toISOString()}: ${r.ticks} ticks, ${r.readings} bucketed readings; ${r.tickets.length} tickets would have been raised\n`,
    );
    for (const t of r.tickets)
      process.stdout.write(
        `${new Date(t.createdTs).toISOString()}  ${t.problem.padEnd(17)} ${t.targetId.padEnd(10)} ${t.summary}\n`,
      );
    return 0;
  } finally {
    await store.stop();
  }
}
