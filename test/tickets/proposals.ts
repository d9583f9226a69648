import type { RulesConfig } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { SqlDb } from '../../src/storage/sql.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { Proposal } from '../../src/tickets/types.ts';

/** A cold substation's proposal to raise its supply offset by `deltaC` (the tickets tests' usual case). */
export const substationProposal = (substationId: string, deltaC = 2, ts = 0): Proposal => ({
  problem: 'substation_cold',
  targetKind: 'substation',
  targetId: substationId,
  substationId,
  rules: ['substation-under-temp'],
  summary: `${substationId} cold`,
  evidence: {},
  action: { kind: 'supply-offset', deltaC },
  predicted: { deltaC: 0.7, expectedC: 18.5, afterH: 12, text: 'about +0.7 °C' },
  baseline: { valueC: 17.2, ts },
  autoApprovable: false,
});

/**
 * The real TicketService on `db`, its clock fixed at `now`, publishing nowhere and logging nothing:
 * an operator's or a seeding process's view of one instance's tickets.
 */
export const ticketsAt = (db: SqlDb, now: number, rules: RulesConfig, instance: string): TicketService =>
  new TicketService(
    db,
    new ManualClock(now),
    new EventBus<HeatEvents>(),
    { publish: async () => {} },
    () => rules,
    silentLogger(),
    { instance },
  );
