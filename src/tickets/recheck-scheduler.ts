import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { TicketService } from './ticket-service.ts';
import type { RecheckOutcome, SetpointInForce, Ticket } from './types.ts';

/** What judges a re-check (the rules engine implements it). */
export interface RecheckEvaluator {
  evaluateRecheck(t: Ticket): Promise<{ outcome: RecheckOutcome; revert?: SetpointInForce }>;
  /** Called after an escalation so the next proposal follows at once. */
  proposeNext(): Promise<unknown>;
}

/**
 * Runs due re-checks (docs/domain.md: 48 h after the adjustment). Schedules are rows in the ticket
 * database, not timers: `start()` first runs every re-check that fell due while heatwatch was down,
 * then polls on the injected clock. An instance claims a due re-check before judging it, so of
 * several instances on one database exactly one judges it; and it is recorded once
 * (TicketService.recordRecheck marks its row done), so running it twice changes nothing.
 */
export class RecheckScheduler {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly tickets: TicketService,
    private readonly evaluator: RecheckEvaluator,
    private readonly rules: () => RulesConfig,
    private readonly log: Logger,
    /** Whether this instance owns a substation's tickets (rules partitions); default: all. */
    private readonly owns: (substationId: string) => boolean = () => true,
  ) {}

  async start(): Promise<void> {
    if (this.timer) return;
    this.timer = this.clock.setInterval(() => {
      void this.runDue().catch((err: unknown) => this.log.error({ err }, 're-check run failed'));
    }, this.rules().recheck.pollS * 1000);
    await this.runDue();
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Runs every due re-check now; returns the ids it recorded. */
  async runDue(): Promise<string[]> {
    if (this.running) return [];
    this.running = true;
    const done: string[] = [];
    try {
      for (const { ticketId } of await this.tickets.dueRechecks(this.clock.now())) {
        const t = (await this.tickets.get(ticketId))?.ticket;
        if (!t || !this.owns(t.substationId)) continue;
        if (!(await this.tickets.claimRecheck(ticketId))) continue;
        // Which instance judges which re-check, for tracing a failover (docs/deploy.md).
        this.log.debug({ ticketId }, 're-check claimed');
        if (t.status !== 'applied' && t.status !== 'rechecking') {
          // Closed by hand or otherwise finished: the row is done without a judgement.
          await this.tickets.recordRecheck(ticketId, {
            ts: this.clock.now(),
            resolved: true,
            measuredC: Number.NaN,
            baselineC: t.baseline.valueC,
            correctedDeltaC: 0,
            predictedDeltaC: t.predicted.deltaC,
            text: `ticket already ${t.status}`,
          });
          continue;
        }
        const { outcome, revert } = await this.evaluator.evaluateRecheck(t);
        if (outcome.deferredUntilTs !== undefined) {
          await this.tickets.deferRecheck(ticketId, outcome.deferredUntilTs, outcome.text);
          continue;
        }
        if (!(await this.tickets.recordRecheck(ticketId, outcome, revert))) continue;
        done.push(ticketId);
        this.log.info({ ticketId, resolved: outcome.resolved, text: outcome.text }, 're-check recorded');
        // A revert's command went into the outbox with the re-check; the outbox publishes it.
        if (!outcome.resolved) await this.evaluator.proposeNext();
      }
    } finally {
      this.running = false;
    }
    return done;
  }
}
