import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { Heatwatch } from '../../src/main.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { pgAvailable, pgSchema } from '../support/postgres.ts';
import { liveStream } from '../support/sse.ts';
import { substationProposal } from '../tickets/proposals.ts';
import { postgresConfig, startOnPostgres, tempDir } from './support.ts';

const hasPg = await pgAvailable();
const TOKEN = 'hw_city_api_admin_token_0123456789abcdef';
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function apiInstance(configDir: string, dataDir: string, url: string, name: string): Promise<Heatwatch> {
  return startOnPostgres({
    configDir,
    dataDir,
    url,
    env: { HEATWATCH_ADMIN_TOKEN: TOKEN, HEATWATCH_ROLE: 'api', HEATWATCH_INSTANCE_ID: name },
  });
}

/** The ticket events of an instance's live stream, and a wait on them. */
async function ticketEvents(port: number) {
  const stream = await liveStream(port, TOKEN);
  const seen = () =>
    stream.events
      .filter((e) => e.event === 'ticket')
      .map((e) => e.data as { ticketId: string; status: string });
  return { seen, until: stream.until, close: stream.close };
}

describe.skipIf(!hasPg)('two API instances of a city (role api) on one PostgreSQL', () => {
  it("serve the same tickets, and a ticket approved on one appears once on the other's live stream", async () => {
    const t = tempDir('hw-city-api-');
    cleanup.push(t.cleanup);
    const schema = await pgSchema();
    cleanup.push(() => schema.drop());
    const configDir = postgresConfig(t.dir);
    const a = await apiInstance(configDir, join(t.dir, 'a'), schema.url, 'api-1');
    cleanup.push(() => a.stop());
    const b = await apiInstance(configDir, join(t.dir, 'b'), schema.url, 'api-2');
    cleanup.push(() => b.stop());
    // A proposal as a rules instance writes it, into the shared database.
    const rules = new TicketService(
      a.opsSql,
      new ManualClock(),
      new EventBus<HeatEvents>(),
      { publish: async () => {} },
      () => rulesSchema.parse({}),
      silentLogger(),
      { instance: 'rules-1' },
    );
    const sub = [...a.config.registry.substations.keys()][0]!;
    const { ticket } = await rules.propose(substationProposal(sub, 1));
    rules.outbox.stop();
    const onB = await ticketEvents(b.httpPort!);
    cleanup.push(() => onB.close());

    const res = await fetch(`http://127.0.0.1:${a.httpPort}/api/tickets/${ticket.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ note: 'go' }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    await onB.until(() => onB.seen().some((e) => e.ticketId === ticket.id));
    expect(
      onB
        .seen()
        .filter((e) => e.ticketId === ticket.id)
        .map((e) => e.status),
    ).toEqual(['approved']);
    // Instance 2 serves the change from the shared database too.
    const got = await fetch(`http://127.0.0.1:${b.httpPort}/api/tickets/${ticket.id}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(((await got.json()) as { status: string }).status).toBe('approved');
  }, 90_000);
});
