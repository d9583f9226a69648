import { randomBytes } from 'node:crypto';
import cron from 'node-cron';
import type { HouseholdsConfig } from '../config/households-schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { UnitHoursSource } from '../rules/compliance.ts';
import {
  BULLETIN_H,
  type Bulletin,
  buildBulletin,
  buildDigests,
  type Digest,
  type ReportInput,
  type TicketLike,
} from './reports.ts';
import { type SeasonRow, seasonReview } from './season.ts';
import type { HouseholdsStore, JobRun, StoredReport } from './store.ts';
import { noChanges } from './types.ts';

const DAY_MS = 86_400_000;

export interface ReporterDeps {
  store: HouseholdsStore;
  clock: Clock;
  cfg: () => HouseholdsConfig;
  index: () => RegistryIndex;
  /** The rules' unit-hours (compliance); absent: the bulletin counts none. */
  unitHours?: UnitHoursSource;
  tickets?: () => TicketLike[] | Promise<TicketLike[]>;
  log: Logger;
  /** The site's IANA time zone (`http.locale.timeZone`), which the cron expressions are read in. */
  timeZone: string;
  /** Runs `job` on a cron expression with the scheduled time; node-cron in `timeZone` when absent. */
  schedule?: CronSchedule;
}

/** A cron scheduler: calls `job` with the time each run was scheduled for. */
export type CronSchedule = (expr: string, job: (scheduledAt: Date) => Promise<void>) => { stop(): void };

const MINUTE_MS = 60_000;

/**
 * node-cron on the wall clock, reading expressions in the site's time zone: hosts of one city set
 * to different zones still fire `0 8 * * *` at the same instant. The time passed is the minute the
 * run was scheduled for, rounded down, so the run's key (docs/households.md "Several instances")
 * is the same on every instance whatever milliseconds or seconds node-cron's context carries.
 */
export const siteCron =
  (timeZone: string): CronSchedule =>
  (expr, job) =>
    cron.schedule(expr, (ctx) => job(new Date(Math.floor(ctx.date.getTime() / MINUTE_MS) * MINUTE_MS)), {
      timezone: timeZone,
    });

/**
 * The two-hourly digest per heating unit and the daily bulletin: computed by the pure builders,
 * kept in the ops database, logged, and put in the outbox for the webhook. Production runs them on
 * wall-clock cron; `runDigest()` / `runBulletin()` are the whole jobs and take their time from the
 * injected clock, so tests script a day without cron.
 */
export class Reporter {
  private tasks: Array<{ stop(): void }> = [];

  constructor(private readonly d: ReporterDeps) {}

  start(): void {
    const c = this.d.cfg();
    const schedule = this.d.schedule ?? siteCron(this.d.timeZone);
    const guard = (what: string, p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (err: unknown) => this.d.log.error({ err }, `households ${what} failed`),
      );
    if (c.digest.enabled)
      this.tasks.push(schedule(c.digest.cron, (at) => guard('digest', this.scheduled('digest', at))));
    if (c.bulletin.enabled)
      this.tasks.push(schedule(c.bulletin.cron, (at) => guard('bulletin', this.scheduled('bulletin', at))));
  }

  /**
   * A run the cron fired: every instance of a city fires it at the same minute, one makes it. The
   * run's row is written with its reports, so the others find it there (or, at the same moment, are
   * refused it) and send nothing; an instance that dies mid-run has written nothing, and another's
   * run stands (docs/households.md "Several instances").
   */
  private async scheduled(job: 'digest' | 'bulletin', at: Date): Promise<void> {
    const slotTs = at.getTime();
    const keepMs = this.d.cfg().bulletin.runRetentionDays * DAY_MS;
    const run: JobRun = { job, slotTs, pruneBeforeTs: slotTs - keepMs };
    if (await this.d.store.jobRan(run)) return;
    const made = job === 'digest' ? await this.digest(run) : await this.bulletin(run);
    if (!made)
      this.d.log.debug({ job, slot: at.toISOString() }, `households ${job}: made by another instance`);
  }

  stop(): void {
    for (const t of this.tasks.splice(0)) t.stop();
  }

  /** `unitHoursFrom`: the bulletin's period starts here (unit-hours are read up to now). */
  async input(unitHoursFrom?: number): Promise<ReportInput> {
    const now = this.d.clock.now();
    const cfg = this.d.cfg();
    const since = now - Math.max(cfg.complaints.hotspotWindowH * 3_600_000, 30 * DAY_MS);
    const s = this.d.store;
    return {
      now,
      cfg,
      index: this.d.index(),
      cases: (await s.listCases({})).filter(
        (k) => k.state !== 'closed' || (k.closedTs ?? 0) >= now - 2 * DAY_MS,
      ),
      tasks: await s.tasks({ states: ['pending', 'overdue'] }),
      complaints: await s.complaints({ fromTs: since, toTs: now + 1 }),
      workOrders: await s.workOrders({ fromTs: since }),
      tickets: (await this.d.tickets?.()) ?? [],
      unitHours:
        unitHoursFrom === undefined || !this.d.unitHours
          ? new Map()
          : await this.d.unitHours.unitHours(unitHoursFrom, now),
    };
  }

  /** The summer repair list over [fromTs, toTs]; `hoursBelow18` per building from the reading history. */
  async seasonReview(fromTs: number, toTs: number, hoursBelow18?: Map<string, number>): Promise<SeasonRow[]> {
    const s = this.d.store;
    return seasonReview({
      index: this.d.index(),
      fromTs,
      toTs,
      cases: await s.listCases({ openedFromTs: fromTs }),
      complaints: await s.complaints({ fromTs, toTs: toTs + 1 }),
      workOrders: await s.workOrders({ fromTs }),
      tickets: (await this.d.tickets?.()) ?? [],
      hoursBelow18,
    });
  }

  /** The digests now, sent whatever ran before (an operator's `POST /api/households/digests`). */
  async runDigest(): Promise<Digest[]> {
    return (await this.digest()) ?? [];
  }

  /** The bulletin now (an operator's `POST /api/households/bulletins`). */
  async runBulletin(): Promise<Bulletin> {
    return (await this.bulletin())!;
  }

  /** Undefined when `run` was made already by another instance. */
  private async digest(run?: JobRun): Promise<Digest[] | undefined> {
    const x = await this.input();
    const digests = buildDigests(x).filter(
      (g) => g.openCases.length + g.overdueTasks.length + g.openTickets.length + g.lateWorkOrders.length > 0,
    );
    const ch = noChanges();
    const reports = digests.map((g): StoredReport => {
      ch.outbox.push({ kind: 'digest', body: g });
      return { id: `dig-${randomBytes(5).toString('hex')}`, kind: 'digest', ts: x.now, body: g };
    });
    if (!(await this.d.store.commitReports(reports, x.cfg.bulletin.keep, ch, x.now, run))) return undefined;
    for (const g of digests)
      this.d.log.info(
        { heatingUnit: g.heatingUnit, openCases: g.openCases.length, overdueTasks: g.overdueTasks.length },
        `households digest ${g.name}: ${g.openCases.length} open cases, ${g.overdueTasks.length} overdue tasks, ${g.openTickets.length} open tickets`,
      );
    return digests;
  }

  private async bulletin(run?: JobRun): Promise<Bulletin | undefined> {
    const x = await this.input(this.d.clock.now() - BULLETIN_H * 3_600_000);
    const b = buildBulletin(
      x,
      `bul-${new Date(x.now).toISOString().slice(0, 16).replace(/[-:T]/g, '')}-${randomBytes(2).toString('hex')}`,
    );
    const ch = noChanges();
    ch.outbox.push({ kind: 'bulletin', body: b });
    const report: StoredReport = { id: b.id, kind: 'bulletin', ts: b.ts, body: b };
    if (!(await this.d.store.commitReports([report], x.cfg.bulletin.keep, ch, x.now, run))) return undefined;
    const c = b.company;
    this.d.log.info(
      {
        bulletin: b.id,
        complaints: c.complaints.received,
        casesOpened: c.cases.opened,
        casesClosed: c.cases.closed,
      },
      `households bulletin ${b.id}: in band ${c.compliance.inBandShare ?? '–'}, ${c.complaints.received} complaints, ${c.cases.opened} cases opened, ${c.cases.closed} closed`,
    );
    return b;
  }
}
