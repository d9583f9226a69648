import { describe, expect, it } from 'vitest';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import {
  nextStatus,
  OPERATOR_ACTIONS,
  operatorActions,
  TICKET_ACTIONS,
  TICKET_STATUSES,
  type TicketAction,
} from '../../src/tickets/lifecycle.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { SetpointPayload, TicketStatus } from '../../src/tickets/types.ts';
import { substationProposal } from './proposals.ts';

/**
 * The documented state machine (docs/rules.md "Tickets"), written out here by hand so the table in
 * src/tickets/lifecycle.ts is checked against the documentation, not against itself.
 */
const DOCUMENTED: Record<TicketAction, Partial<Record<TicketStatus, TicketStatus>>> = {
  approve: { proposed: 'approved' },
  apply: { approved: 'applied' },
  reject: { proposed: 'rejected', approved: 'rejected' },
  supersede: { proposed: 'superseded', approved: 'superseded' },
  close: { applied: 'resolved', rechecking: 'resolved' },
  'start-recheck': { applied: 'rechecking' },
  resolve: { rechecking: 'resolved' },
  escalate: { rechecking: 'escalated' },
};

const START = Date.UTC(2026, 0, 15, 6);

const proposal = (i: number) => substationProposal(`ss${i}`, 2, START);

function service() {
  const db = openDb(':memory:', { synchronous: 'FULL', migrations: ticketMigrations });
  const published: SetpointPayload[] = [];
  const tickets = new TicketService(
    sqliteSql(db),
    new ManualClock(START),
    new EventBus<HeatEvents>(),
    { publish: async (_s, p) => void published.push(p) },
    () => rulesSchema.parse({ autoApprove: { enabled: false } }),
    silentLogger(),
  );
  return { db, tickets, published };
}

describe('ticket state machine', () => {
  it('the transition table is the documented one: every action × every status', () => {
    for (const action of TICKET_ACTIONS)
      for (const from of TICKET_STATUSES)
        expect(nextStatus(from, action), `${action} from ${from}`).toBe(DOCUMENTED[action][from]);
  });

  it('the API offers a ticket exactly the operator actions the table allows', () => {
    for (const status of TICKET_STATUSES)
      expect(operatorActions(status), status).toEqual(
        OPERATOR_ACTIONS.filter((a) => DOCUMENTED[a][status] !== undefined),
      );
    expect(operatorActions('proposed')).not.toContain('apply');
  });

  it('TicketService: every operator action from every status moves as documented, else 409 and nothing changes', async () => {
    const { db, tickets, published } = service();
    let i = 0;
    for (const action of OPERATOR_ACTIONS)
      for (const from of TICKET_STATUSES) {
        const id = (await tickets.propose(proposal(i++))).ticket.id;
        // Put the ticket in `from` directly: the point is the service's answer from each status.
        db.prepare('UPDATE tickets SET status = ? WHERE id = ?').run(from, id);
        const eventsBefore = (await tickets.get(id))!.events.length;
        const want = DOCUMENTED[action][from];
        const run = () => tickets[action](id, 'ops');
        if (want) {
          expect((await run()).status, `${action} from ${from}`).toBe(want);
        } else {
          await expect(run(), `${action} from ${from}`).rejects.toThrow(
            expect.objectContaining({ code: 'HW_ERR_CONFLICT', statusCode: 409 }),
          );
          expect((await tickets.get(id))!.ticket.status).toBe(from);
          expect((await tickets.get(id))!.events).toHaveLength(eventsBefore);
        }
        // Only a successful apply writes a setpoint command.
        expect((await tickets.commandsOf(id)).length, `${action} from ${from}`).toBe(
          action === 'apply' && want ? 1 : 0,
        );
      }
    await tickets.outbox.drainOnce();
    expect(published).toHaveLength(1);
    db.close();
  });
});
