import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { TicketServiceAdapter } from '../../src/http/ticket-adapter.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { Proposal, SetpointPayload } from '../../src/tickets/types.ts';
import { type Harness, makeHarness, TOKENS } from './harness.ts';

const proposal = (targetId: string, substationId: string): Proposal => ({
  problem: 'building_cold',
  targetKind: 'building',
  targetId,
  substationId,
  rules: ['building-under-temp'],
  summary: `${targetId} is cold: class-weighted mean 16.8 °C for 3 h`,
  evidence: { meanC: 16.84, requiredC: 18, unitsBelow: 6, since: '2026-01-15T05:00:00Z' },
  action: { kind: 'supply-offset', deltaC: 2.5 },
  predicted: { deltaC: 0.9, expectedC: 17.7, afterH: 12, text: 'about +0.9 °C within 12 h' },
  baseline: { valueC: 16.8, outdoorC: -8, ts: 0 },
  autoApprovable: false,
});

/** The API in front of the real ticket module: its records, its lifecycle checks, its setpoints. */
describe('tickets API over the real TicketService', () => {
  let h: Harness;
  let service: TicketService;
  const published: Array<{ substationId: string; payload: SetpointPayload }> = [];

  beforeAll(async () => {
    h = await makeHarness({
      tickets: (bus, clock, live) => {
        const db = openDb(':memory:', { synchronous: 'NORMAL', migrations: ticketMigrations });
        service = new TicketService(
          sqliteSql(db),
          clock,
          bus,
          { publish: async (substationId, payload) => void published.push({ substationId, payload }) },
          () => rulesSchema.parse({ autoApprove: { enabled: false } }),
          silentLogger(),
        );
        return new TicketServiceAdapter(service, () => live.index);
      },
    });
  });
  afterAll(async () => h.http.app.close());

  const as = (role: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[role]}` });

  it('lists and shows tickets with evidence rows, proposal text, prediction and allowed actions', async () => {
    const created = await service.propose(proposal('n03', 'ss-north'));
    const id = created.ticket.id;
    const list = await h.http.app.inject({ url: '/api/tickets', headers: as('viewer') });
    expect(list.statusCode).toBe(200);
    const t = list.json().tickets.find((x: { id: string }) => x.id === id);
    expect(t).toMatchObject({
      status: 'proposed',
      targetKind: 'building',
      buildingId: 'n03',
      proposal: { description: 'Supply temperature offset +2.5 °C', supplyOffsetC: 2.5 },
      predictedEffect: 'about +0.9 °C within 12 h',
      actions: ['approve', 'reject'],
    });
    expect(t.evidence).toContainEqual({
      key: 'meanC',
      label: 'mean C',
      value: '16.84',
      num: 16.84,
      unit: 'C',
    });
    const one = await h.http.app.inject({ url: `/api/tickets/${id}`, headers: as('viewer') });
    expect(one.json().events[0]).toMatchObject({ kind: expect.any(String), toStatus: 'proposed' });
    const buildings = await h.http.app.inject({ url: '/api/buildings', headers: as('viewer') });
    expect(buildings.json().buildings.find((b: { id: string }) => b.id === 'n03').openTickets).toBe(1);
  });

  it('approve then apply: statuses move, the setpoint is published, the re-check is scheduled; close too early is 409', async () => {
    const id = (await service.propose(proposal('r02', 'ss-river'))).ticket.id;
    const approve = await h.http.app.inject({
      method: 'POST',
      url: `/api/tickets/${id}/approve`,
      headers: as('operator'),
      payload: { note: 'checked with the estate manager' },
    });
    expect(approve.statusCode).toBe(200);
    expect(approve.json()).toMatchObject({ status: 'approved', actions: ['apply', 'reject'] });
    expect(approve.json().events.at(-1)).toMatchObject({
      actor: 'otto',
      note: 'checked with the estate manager',
    });
    const early = await h.http.app.inject({
      method: 'POST',
      url: `/api/tickets/${id}/close`,
      headers: as('operator'),
    });
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'HW_ERR_CONFLICT' });
    const apply = await h.http.app.inject({
      method: 'POST',
      url: `/api/tickets/${id}/apply`,
      headers: as('operator'),
    });
    expect(apply.statusCode).toBe(200);
    expect(apply.json().status).toBe('applied');
    expect(apply.json().recheckDueTs).toBe(h.clock.now() + 48 * 3_600_000);
    expect(published.at(-1)).toMatchObject({ substationId: 'ss-river', payload: { ticketId: id } });
    const missing = await h.http.app.inject({
      method: 'POST',
      url: '/api/tickets/nope/approve',
      headers: as('operator'),
    });
    expect(missing.statusCode).toBe(404);
  });
});
