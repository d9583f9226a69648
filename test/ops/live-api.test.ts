import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { systemClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { TicketServiceAdapter } from '../../src/http/ticket-adapter.ts';
import { LiveBridge } from '../../src/ops/live-bridge.ts';
import { liveFeedMigrations } from '../../src/ops/live-feed.ts';
import { openPostgres, type SqlDb } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { ticketSqlMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { makeHarness, TOKENS } from '../http/harness.ts';
import { type PgSchema, pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';
import { liveStream } from '../support/sse.ts';
import { substationProposal } from '../tickets/proposals.ts';

const hasPg = await pgAvailable();
const RULES = rulesSchema.parse({ autoApprove: { enabled: false } });
const FEED = {
  batch: 100,
  reconnectInitialMs: 100,
  reconnectMaxMs: 1000,
  connectTimeoutMs: 5000,
  retentionMs: 3_600_000,
  pruneIntervalMs: 600_000,
};

const open = (url: string) => openPostgres(url, pgOptions(4));

const sse = (port: number) => liveStream(port, TOKENS.viewer);

/** One API instance: real fastify on loopback, tickets in the city's PostgreSQL, the live feed joined. */
async function apiInstance(name: string, url: string) {
  const db = await open(url);
  const h = await makeHarness({
    wallClock: systemClock(),
    liveSource: 'feed',
    tickets: (bus, clock, live) =>
      new TicketServiceAdapter(
        new TicketService(db, clock, bus, { publish: async () => {} }, () => RULES, silentLogger(), {
          instance: name,
        }),
        () => live.index,
        (sid) => live.substation(sid)?.latest,
      ),
  });
  const bridge = new LiveBridge({
    bus: h.bus,
    db,
    url,
    origin: name,
    share: ['ticketChanged', 'caseChanged'],
    publish: (event, data) => h.http.hub.publish(event, data),
    settings: () => FEED,
    wallClock: systemClock(),
    log: silentLogger(),
  });
  await bridge.start();
  await h.http.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (h.http.app.server.address() as { port: number }).port;
  return {
    h,
    port,
    close: async () => {
      await h.http.app.close();
      await bridge.stop();
      await db.close();
    },
  };
}

describe.skipIf(!hasPg)('two API instances on one PostgreSQL', () => {
  let schema: PgSchema;
  let db: SqlDb;

  beforeAll(async () => {
    schema = await pgSchema();
    db = await open(schema.url);
    await migrateSql(db, [...ticketSqlMigrations, ...liveFeedMigrations]);
  });
  afterAll(async () => {
    await db?.close();
    await schema?.drop();
  });

  it("shows a ticket approved on one instance on the other's live stream, once", async () => {
    const a = await apiInstance('api-1', schema.url);
    const b = await apiInstance('api-2', schema.url);
    const onA = await sse(a.port);
    const onB = await sse(b.port);
    try {
      // The proposal comes from a rules instance (here: a ticket service of its own on the database).
      const rules = new TicketService(
        db,
        a.h.clock,
        new EventBus<HeatEvents>(),
        { publish: async () => {} },
        () => RULES,
        silentLogger(),
        { instance: 'rules-1' },
      );
      const { ticket } = await rules.propose(
        substationProposal([...a.h.live.index.substations.keys()][0]!, 1),
      );
      rules.outbox.stop();

      // An operator approves it on instance 1, over HTTP.
      const res = await fetch(`http://127.0.0.1:${a.port}/api/tickets/${ticket.id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKENS.operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'go' }),
      });
      expect(res.status).toBe(200);

      const approvedOn = (s: typeof onA) =>
        s.events.filter(
          (e) => e.event === 'ticket' && (e.data as { ticketId: string }).ticketId === ticket.id,
        );
      await onB.until(() => approvedOn(onB).length > 0);
      expect(approvedOn(onB).map((e) => (e.data as { status: string }).status)).toEqual(['approved']);
      // Instance 1's own dashboard gets it through the same feed, also once.
      await onA.until(() => approvedOn(onA).length > 0);
      expect(approvedOn(onA)).toEqual(approvedOn(onB));
    } finally {
      onA.close();
      onB.close();
      await a.close();
      await b.close();
    }
  });
});
