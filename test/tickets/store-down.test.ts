import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { TicketServiceAdapter } from '../../src/http/ticket-adapter.ts';
import { RulesEngine } from '../../src/rules/engine.ts';
import { rulesSqlMigrations } from '../../src/rules/module.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { openPostgres, type SqlDb } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { ticketSqlMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { type Harness, makeHarness, TOKENS } from '../http/harness.ts';
import { smallRegistry } from '../rules/fixture.ts';
import { PG_URL, type PgSchema, pgAvailable, pgSchema } from '../support/postgres.ts';
import { proposal } from './ticket-store.suite.ts';

/** A TCP proxy in front of PostgreSQL that the test stops and starts: the server "goes away". */
class TcpProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly host: string,
    private readonly target: number,
  ) {}

  async start(): Promise<number> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
    return this.port;
  }

  /** Refuses new connections and cuts the open ones. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const available = await pgAvailable();

describe.skipIf(!available)('ticket store down while running (PostgreSQL behind a proxy)', () => {
  let schema: PgSchema;
  let proxy: TcpProxy;
  let db: SqlDb;
  let h: Harness;
  let service: TicketService;
  let engine: RulesEngine;
  const lines: string[] = [];
  const alerts: Array<HeatEvents['alert']> = [];
  const as = (role: keyof typeof TOKENS) => ({ authorization: `Bearer ${TOKENS[role]}` });

  beforeAll(async () => {
    schema = await pgSchema();
    const admin = await openPostgres(schema.url, {
      poolSize: 1,
      connectTimeoutMs: 5000,
      statementTimeoutMs: 30_000,
      idleTimeoutMs: 1000,
    });
    await migrateSql(admin, [...ticketSqlMigrations, ...rulesSqlMigrations]);
    await admin.close();
    const target = new URL(PG_URL);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    const via = new URL(schema.url);
    via.hostname = '127.0.0.1';
    via.port = String(await proxy.start());
    db = await openPostgres(via.toString(), {
      poolSize: 2,
      connectTimeoutMs: 1000,
      statementTimeoutMs: 10_000,
      idleTimeoutMs: 1000,
      onIdleError: () => {},
    });
    const log = pino(
      { level: 'info' },
      new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const rules = rulesSchema.parse({ autoApprove: { enabled: false } });
    h = await makeHarness({
      tickets: (bus, clock, live) => {
        bus.on('alert', 'test', (a) => alerts.push(a));
        service = new TicketService(db, clock, bus, { publish: async () => {} }, () => rules, log);
        engine = new RulesEngine(clock, new LiveState(smallRegistry(2)), service, rules, log, bus);
        void live;
        return new TicketServiceAdapter(service, () => live.index);
      },
    });
  });

  afterAll(async () => {
    engine?.stop();
    service?.outbox.stop();
    await h?.http.app.close();
    await db?.close();
    await proxy?.stop();
    await schema?.drop();
  });

  it('ticket actions answer 503 in the error shape, the rules pause visibly, and both resume by themselves', async () => {
    const id = (await service.propose(proposal('b1'))).ticket.id;
    expect((await h.http.app.inject({ url: '/api/tickets', headers: as('viewer') })).statusCode).toBe(200);
    engine.start();
    h.clock.advance(engine.rules.tick.intervalS * 1000);
    await vi.waitFor(() => expect(engine.status().lastTick).toBeDefined(), { timeout: 10_000 });
    expect(engine.pause.since).toBeUndefined();

    await proxy.stop();
    const approve = await h.http.app.inject({
      method: 'POST',
      url: `/api/tickets/${id}/approve`,
      headers: as('operator'),
      payload: { note: 'checked' },
    });
    expect(approve.statusCode).toBe(503);
    expect(approve.json()).toMatchObject({ statusCode: 503, code: 'HW_ERR_OPS_DB_UNAVAILABLE' });
    expect(approve.json().message).toMatch(/operational database is not reachable/);
    const list = await h.http.app.inject({ url: '/api/tickets', headers: as('viewer') });
    expect(list.statusCode).toBe(503);
    expect(list.json().code).toBe('HW_ERR_OPS_DB_UNAVAILABLE');

    h.clock.advance(engine.rules.tick.intervalS * 1000);
    await vi.waitFor(() => expect(engine.pause.since).toBeDefined(), { timeout: 10_000 });
    expect(lines.some((l) => l.includes('rules paused'))).toBe(true);
    expect(alerts.at(-1)).toMatchObject({ key: 'rules-paused', active: true });
    // Further failed ticks do not repeat the warning.
    h.clock.advance(engine.rules.tick.intervalS * 1000);
    h.clock.advance(engine.rules.tick.intervalS * 1000);
    await vi.waitFor(() => expect(lines.filter((l) => l.includes('rules paused'))).toHaveLength(1));

    await proxy.start();
    // The pool makes new connections through the proxy again: the same action goes through.
    await vi.waitFor(
      async () => {
        const again = await h.http.app.inject({
          method: 'POST',
          url: `/api/tickets/${id}/approve`,
          headers: as('operator'),
          payload: { note: 'checked' },
        });
        expect(again.statusCode).toBe(200);
        expect(again.json().status).toBe('approved');
      },
      { timeout: 15_000, interval: 200 },
    );
    await vi.waitFor(
      () => {
        h.clock.advance(engine.rules.tick.intervalS * 1000);
        expect(engine.pause.since).toBeUndefined();
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(lines.some((l) => l.includes('rules resumed'))).toBe(true);
    expect(alerts.at(-1)).toMatchObject({ key: 'rules-paused', active: false });
    expect((await service.get(id))!.events.map((e) => e.kind)).toEqual(['created', 'approved']);
  }, 60_000);
});
