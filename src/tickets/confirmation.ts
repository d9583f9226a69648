import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { SubstationReading } from '../core/readings.ts';
import type { SetpointCommand, SetpointOutbox, TicketNote } from './outbox.ts';

const MIN_MS = 60_000;

/** What a substation's controller last reported (live state's latest telemetry). */
export type ReportedBy = (substationId: string) => SubstationReading | undefined;

/** A published command's confirmation as the API shows it. */
export interface SetpointStatus {
  commandId: string;
  delivery: 'pending' | 'published';
  attempts: number;
  lastError?: string;
  publishedTs?: number;
  /** What heatwatch sent (absolute: the setpoint in force it asked for). */
  sent: { supplyOffsetC: number; slopeDelta?: number; buildingValves?: Record<string, number> };
  /** What the substation reports in force now, which is what counts. */
  reported?: { supplyOffsetC?: number; setpointId?: string; ts: number };
  confirmation: SetpointCommand['confirm'];
  /** Publish → first report showing it in force, seconds. */
  confirmedAfterS?: number;
  text: string;
}

/**
 * Compares what each substation's controller reports (`setpointId`, `supplyOffset` in its
 * telemetry) with the commands heatwatch published (docs/rules.md "Confirmation"): a command is
 * `confirmed` at the first report showing it in force, with the delay since its publish; one not
 * seen within `setpoint.confirmAfterMin` is `not confirmed` — an `alert` on the bus and an event on
 * its ticket — and becomes `confirmed` (alert cleared) if it shows up late. Polls on the injected
 * clock, so a direct-coupled harness drives it like everything else.
 */
export class ConfirmationWatcher {
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly outbox: SetpointOutbox,
    private readonly reportedBy: ReportedBy,
    private readonly rules: () => RulesConfig,
    private readonly bus: EventBus<HeatEvents> | undefined,
    private readonly note: TicketNote,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = this.clock.setInterval(() => {
      void this.checkNow().catch((err: unknown) =>
        this.log.warn({ err }, 'setpoint confirmation check failed'),
      );
    }, this.rules().setpoint.confirmPollS * 1000);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Judges every published, unconfirmed command against its substation's latest report. */
  async checkNow(): Promise<void> {
    const now = this.clock.now();
    for (const cmd of await this.outbox.unconfirmed()) {
      const r = this.reportedBy(cmd.substationId);
      if (r && r.ts >= (cmd.publishedTs ?? now) && (await this.inForce(cmd, r))) await this.confirm(cmd, r);
      else if (cmd.confirm === 'awaiting' && now - cmd.publishedTs! >= this.waitMs())
        await this.notConfirmed(cmd, r, now);
    }
  }

  /**
   * The report shows the command: the id it echoes is the command's (and the offset, if reported,
   * is the command's). A report without an id — a controller that echoes none, or one that has not
   * applied any command yet — can show only a command that moved the offset: an unchanged offset
   * proves nothing (a valve command to a controller that ignored it would look confirmed).
   */
  private async inForce(cmd: SetpointCommand, r: SubstationReading): Promise<boolean> {
    const tol = this.rules().setpoint.confirmToleranceC;
    const offsetOk =
      r.supplyOffsetC === undefined || Math.abs(r.supplyOffsetC - cmd.payload.supplyOffset) <= tol;
    if (r.setpointId !== undefined) return r.setpointId === cmd.commandId && offsetOk;
    if (r.supplyOffsetC === undefined) return false;
    return offsetOk && Math.abs(cmd.payload.supplyOffset - (await this.outbox.offsetBefore(cmd))) > tol;
  }

  private async confirm(cmd: SetpointCommand, r: SubstationReading): Promise<void> {
    const delayMs = Math.max(0, r.ts - cmd.publishedTs!);
    await this.outbox.setConfirm(cmd.commandId, 'confirmed', r.ts, reportedOf(r));
    const text = `setpoint ${cmd.commandId} confirmed by ${cmd.substationId} after ${minutes(delayMs)}`;
    await this.note(cmd.ticketId, 'setpoint-confirmed', 'substation', text);
    if (cmd.confirm === 'not-confirmed') this.alert(cmd, false, `${text} (late)`);
    this.log.info({ commandId: cmd.commandId, delayMs }, 'setpoint confirmed');
  }

  private async notConfirmed(cmd: SetpointCommand, r: SubstationReading | undefined, now: number) {
    await this.outbox.setConfirm(cmd.commandId, 'not-confirmed', now, r && reportedOf(r));
    const saw = r
      ? `it reports offset ${r.supplyOffsetC ?? '?'} °C${r.setpointId ? `, command ${r.setpointId}` : ''}`
      : 'no report from it';
    const text = `setpoint ${cmd.commandId} (offset ${cmd.payload.supplyOffset} °C) not confirmed by ${cmd.substationId} after ${this.rules().setpoint.confirmAfterMin} minutes: ${saw}`;
    await this.note(cmd.ticketId, 'setpoint-not-confirmed', 'substation', text);
    this.alert(cmd, true, text);
    this.log.warn({ commandId: cmd.commandId }, text);
  }

  private alert(cmd: SetpointCommand, active: boolean, message: string): void {
    this.bus?.emit('alert', {
      key: `setpoint-not-confirmed:${cmd.substationId}`,
      severity: 'critical',
      message,
      active,
      ts: this.clock.now(),
    });
  }

  private waitMs(): number {
    return this.rules().setpoint.confirmAfterMin * MIN_MS;
  }
}

/** A ticket's latest command, with what the substation reports now, for the API. */
export function setpointStatus(
  cmd: SetpointCommand,
  reported: SubstationReading | undefined,
  rules: RulesConfig,
  now: number,
): SetpointStatus {
  const p = cmd.payload;
  const confirmedAfterS =
    cmd.confirm === 'confirmed' && cmd.confirmTs !== undefined && cmd.publishedTs !== undefined
      ? Math.round((cmd.confirmTs - cmd.publishedTs) / 1000)
      : undefined;
  return {
    commandId: cmd.commandId,
    delivery: cmd.publishedTs === undefined ? 'pending' : 'published',
    attempts: cmd.attempts,
    lastError: cmd.lastError,
    publishedTs: cmd.publishedTs,
    sent: { supplyOffsetC: p.supplyOffset, slopeDelta: p.slopeDelta, buildingValves: p.buildingValves },
    reported: reported ? reportedOf(reported) : cmd.reported,
    confirmation: cmd.confirm,
    confirmedAfterS,
    text: statusText(cmd, confirmedAfterS, rules, now),
  };
}

function statusText(cmd: SetpointCommand, afterS: number | undefined, rules: RulesConfig, now: number) {
  if (cmd.publishedTs === undefined)
    return `waiting for the broker (${cmd.attempts} attempts${cmd.lastError ? `: ${cmd.lastError}` : ''})`;
  switch (cmd.confirm) {
    case 'confirmed':
      return `confirmed after ${minutes((afterS ?? 0) * 1000)}`;
    case 'not-confirmed':
      return `not confirmed after ${rules.setpoint.confirmAfterMin} minutes`;
    case 'superseded':
      return 'superseded by a later setpoint before it was confirmed';
    default:
      return `sent ${minutes(now - cmd.publishedTs)} ago, awaiting confirmation`;
  }
}

const reportedOf = (r: SubstationReading) => ({
  supplyOffsetC: r.supplyOffsetC,
  setpointId: r.setpointId,
  ts: r.ts,
});

const minutes = (ms: number): string => `${Math.round(ms / MIN_MS)} min`;
