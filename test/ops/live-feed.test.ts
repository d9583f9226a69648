import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents, TicketChange } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { LiveEventName } from '../../src/http/wire.ts';
import { LiveBridge, type LiveBridgeSettings, type SharedEvent } from '../../src/ops/live-bridge.ts';
import { liveFeedMigrations } from '../../src/ops/live-feed.ts';
import { openPostgres, type SqlDb } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { PG_URL, type PgSchema, pgAvailable, pgSchema } from '../support/postgres.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

const hasPg = await pgAvailable();

const settings: LiveBridgeSettings = {
  batch: 7,
  reconnectInitialMs: 50,
  reconnectMaxMs: 500,
  connectTimeoutMs: 2000,
  retentionMs: 3_600_000,
  pruneIntervalMs: 60_000,
};

const open = (url: string) =>
  openPostgres(url, { poolSize: 4, connectTimeoutMs: 2000, statementTimeoutMs: 10_000, idleTimeoutMs: 5000 });

/** One instance: its bus, its bridge, and what its live stream received. */
async function instance(
  origin: string,
  url: string,
  share: readonly SharedEvent[] = ['ticketChanged', 'caseChanged'],
) {
  const bus = new EventBus<HeatEvents>();
  const db = await open(url);
  const stream: Array<{ event: LiveEventName; data: unknown }> = [];
  const waiters: Array<() => void> = [];
  const bridge = new LiveBridge({
    bus,
    db,
    url,
    origin,
    share,
    publish: (event, data) => {
      stream.push({ event, data });
      for (const w of waiters.splice(0)) w();
    },
    settings: () => settings,
    wallClock: systemClock(),
    log: silentLogger(),
  });
  await bridge.start();
  /** Resolves once the stream holds `n` events (an event-driven wait, bounded by the test timeout). */
  const received = async (n: number) => {
    while (stream.length < n) await new Promise<void>((r) => waiters.push(r));
  };
  return {
    bus,
    db,
    bridge,
    stream,
    received,
    close: async () => {
      await bridge.stop();
      await db.close();
    },
  };
}

const ticket = (id: string, n: number): TicketChange =>
  ({ id, status: 'approved', actor: `op-${n}`, ts: n }) as unknown as TicketChange;

describe.skipIf(!hasPg)('the city live feed on PostgreSQL', () => {
  let schema: PgSchema;
  let admin: SqlDb;

  beforeAll(async () => {
    schema = await pgSchema();
    admin = await open(schema.url);
    await migrateSql(admin, liveFeedMigrations);
  });
  afterAll(async () => {
    await admin.close();
    await schema.drop();
  });

  it('shows every instance the events of all instances once each, in one order that keeps each origin in sequence', async () => {
    const a = await instance('api-1', schema.url);
    const b = await instance('api-2', schema.url);
    try {
      const N = 40;
      // Both instances change tickets at the same time.
      for (let i = 0; i < N; i++) {
        a.bus.emit('ticketChanged', ticket(`A-${i}`, i));
        b.bus.emit('ticketChanged', ticket(`B-${i}`, i));
      }
      a.bus.emit('caseChanged', { caseId: 'C-1', state: 'open', buildingId: 'b1', unitKey: 'b1/2/3', ts: 1 });
      await Promise.all([a.received(2 * N + 1), b.received(2 * N + 1)]);
      await Promise.all([a.bridge.idle(), b.bridge.idle()]);
      const ids = (s: typeof a.stream) =>
        s.map(
          (e) => (e.data as { id?: string; caseId?: string }).id ?? (e.data as { caseId: string }).caseId,
        );
      expect(ids(a.stream)).toEqual(ids(b.stream));
      expect(new Set(ids(a.stream)).size).toBe(2 * N + 1);
      for (const origin of ['A', 'B'])
        expect(ids(a.stream).filter((id) => id.startsWith(`${origin}-`))).toEqual(
          Array.from({ length: N }, (_, i) => `${origin}-${i}`),
        );
      expect(a.stream.filter((e) => e.event === 'case')).toHaveLength(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('shares building states only from the instances that judge them, and relays them onto the other buses', async () => {
    const rules = await instance('rules-1', schema.url, ['ticketChanged', 'caseChanged', 'buildingStatus']);
    const api = await instance('api-1', schema.url);
    try {
      const relayed: string[] = [];
      api.bus.on('buildingStatus', 'test', (s) => relayed.push(`${s.buildingId}:${s.state}`));
      // The API instance's own fallback judge: local only, never appended.
      api.bus.emit('buildingStatus', { buildingId: 'b-local', state: 'cold', ts: 1 });
      rules.bus.emit('buildingStatus', { buildingId: 'b-7', state: 'cold', ts: 2 });
      await Promise.all([rules.received(1), api.received(1)]);
      await api.bridge.idle();
      expect(api.stream).toEqual([{ event: 'building', data: { buildingId: 'b-7', state: 'cold', ts: 2 } }]);
      expect(rules.stream).toEqual(api.stream);
      // Relayed once onto the API bus (b-local is the test's own emit), and not appended back.
      expect(relayed).toEqual(['b-local:cold', 'b-7:cold']);
      const n = await admin.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM live_events WHERE kind = 'buildingStatus'`,
      );
      expect(n?.n).toBe(1);
    } finally {
      await rules.close();
      await api.close();
    }
  });

  it('catches up in order after its listening connection was cut, with nothing twice', async () => {
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(PG_URL).port || 5432));
    const viaProxy = new URL(schema.url);
    viaProxy.host = proxy.hostPort;
    const a = await instance('api-1', schema.url);
    const b = await instance('api-2', viaProxy.toString());
    try {
      a.bus.emit('ticketChanged', ticket('before', 0));
      await b.received(1);
      const connectionsBefore = b.bridge.feed.connections;
      proxy.cut('refuse');
      for (let i = 0; i < 12; i++) a.bus.emit('ticketChanged', ticket(`during-${i}`, i));
      await a.received(13);
      // Cut off: b has seen none of them.
      expect(b.stream).toHaveLength(1);
      proxy.restore();
      await b.received(13);
      expect(b.bridge.feed.connections).toBe(connectionsBefore + 1);
      expect(b.stream.map((e) => (e.data as { id: string }).id)).toEqual(
        a.stream.map((e) => (e.data as { id: string }).id),
      );
      a.bus.emit('ticketChanged', ticket('after', 99));
      await b.received(14);
      expect(b.stream).toHaveLength(14);
    } finally {
      await a.close();
      await b.close();
      await proxy.close();
    }
  });
});
