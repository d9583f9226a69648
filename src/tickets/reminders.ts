import cron from 'node-cron';
import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { LiveView } from '../rules/view.ts';
import type { TicketService } from './ticket-service.ts';
import { OPEN_STATUSES } from './types.ts';

/** The two-hourly summary a substation's branch receives (docs/domain.md "Reminders"). */
export interface Digest {
  substationId: string;
  name: string;
  ts: number;
  openTickets: Array<{
    id: string;
    status: string;
    problem: string;
    targetId: string;
    summary: string;
    ageH: number;
  }>;
  coldUnits: Array<{ sensorId: string; buildingId: string; floor: number; column: number; tempC: number }>;
  coldUnitsTotal: number;
}

export interface Notifier {
  readonly name: string;
  send(digests: Digest[]): Promise<void>;
}

/** True when `ts` falls in the heating season (MM-DD bounds, inclusive; may wrap the new year). */
export function inSeason(ts: number, startMd: string, endMd: string): boolean {
  const d = new Date(ts);
  const md = `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
  return startMd <= endMd ? md >= startMd && md <= endMd : md >= startMd || md <= endMd;
}

/** One digest per substation with open tickets or cold units (one read of the open tickets); quiet substations get none. */
export async function buildDigests(
  live: LiveView,
  tickets: Pick<TicketService, 'list'>,
  cfg: RulesConfig,
  now: number,
): Promise<Digest[]> {
  const line = cfg.requiredTempC - cfg.toleranceC;
  const open = await tickets.list({ status: 'open' });
  const out: Digest[] = [];
  for (const sub of live.index.substations.values()) {
    const cold: Digest['coldUnits'] = [];
    for (const b of live.index.buildingsBySubstation.get(sub.id) ?? [])
      for (const s of live.buildingSensors(b.id))
        if (s.tempC !== undefined && live.isFresh(s, now) && s.tempC < line)
          cold.push({
            sensorId: s.info.sensor.id,
            buildingId: b.id,
            floor: s.info.sensor.floor,
            column: s.info.sensor.column,
            tempC: s.tempC,
          });
    cold.sort((a, b) => a.tempC - b.tempC);
    const mine = open.filter((t) => t.substationId === sub.id && OPEN_STATUSES.includes(t.status));
    if (mine.length === 0 && cold.length === 0) continue;
    out.push({
      substationId: sub.id,
      name: sub.name,
      ts: now,
      openTickets: mine.map((t) => ({
        id: t.id,
        status: t.status,
        problem: t.problem,
        targetId: t.targetId,
        summary: t.summary,
        ageH: Math.round((now - t.createdTs) / 360_000) / 10,
      })),
      coldUnits: cold.slice(0, cfg.reminders.maxColdUnits),
      coldUnitsTotal: cold.length,
    });
  }
  return out;
}

export class LogNotifier implements Notifier {
  readonly name = 'log';
  constructor(private readonly log: Logger) {}
  async send(digests: Digest[]): Promise<void> {
    for (const d of digests)
      this.log.info(
        { substationId: d.substationId, openTickets: d.openTickets.length, coldUnits: d.coldUnitsTotal },
        `digest ${d.name}: ${d.openTickets.length} open tickets, ${d.coldUnitsTotal} cold units`,
      );
  }
}

/** POSTs `{ digests }` as JSON; a slow or failing endpoint is timed out and reported, never thrown past. */
export class WebhookNotifier implements Notifier {
  readonly name = 'webhook';
  constructor(
    private readonly url: string,
    private readonly timeoutMs: number,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}
  async send(digests: Digest[]): Promise<void> {
    const res = await this.fetchFn(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ digests }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`webhook answered ${res.status}`);
  }
}

/**
 * Sends the digests on the configured node-cron schedule during the heating season. `runOnce()` is
 * the whole job and takes its time from the injected clock, so tests drive it without cron.
 */
export class ReminderScheduler {
  private task: { stop(): void } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly live: LiveView,
    private readonly tickets: TicketService,
    private readonly rules: () => RulesConfig,
    private readonly notifiers: readonly Notifier[],
    private readonly log: Logger,
  ) {}

  /** Production wiring: wall-clock cron (docs/architecture.md decision 8). */
  start(): void {
    const r = this.rules().reminders;
    if (this.task || !r.enabled) return;
    this.task = cron.schedule(r.cron, () => {
      void this.runOnce();
    });
  }

  stop(): void {
    this.task?.stop();
    this.task = undefined;
  }

  async runOnce(): Promise<{ sent: number; skipped?: string; failed: string[] }> {
    const cfg = this.rules();
    const now = this.clock.now();
    if (!inSeason(now, cfg.reminders.seasonStart, cfg.reminders.seasonEnd))
      return { sent: 0, skipped: 'outside the heating season', failed: [] };
    const digests = await buildDigests(this.live, this.tickets, cfg, now);
    const failed: string[] = [];
    for (const n of this.notifiers) {
      try {
        await n.send(digests);
      } catch (err) {
        failed.push(n.name);
        this.log.warn({ err, notifier: n.name }, 'digest not delivered');
      }
    }
    return { sent: digests.length, failed };
  }
}

/** The notifiers the config asks for: always the log, plus the webhook when a URL is set. */
export function notifiersFor(cfg: RulesConfig, log: Logger): Notifier[] {
  const out: Notifier[] = [new LogNotifier(log)];
  if (cfg.reminders.webhookUrl)
    out.push(new WebhookNotifier(cfg.reminders.webhookUrl, cfg.reminders.webhookTimeoutMs));
  return out;
}
