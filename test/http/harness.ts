import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/loader.ts';
import { serviceSchema } from '../../src/config/service-schema.ts';
import type { UsersConfig } from '../../src/config/users-schema.ts';
import { type Clock, ManualClock } from '../../src/core/clock.ts';
import { Errors } from '../../src/core/errors.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import type { RegistryIndex } from '../../src/core/registry.ts';
import { type AppOptions, buildApp, type HeatwatchHttp } from '../../src/http/app.ts';
import { httpMigrations } from '../../src/http/audit.ts';
import { hashToken } from '../../src/http/auth.ts';
import { UnitHoursCompliance } from '../../src/http/compliance.ts';
import type {
  HistoryPort,
  HttpDeps,
  ManualReadingSink,
  TicketAction,
  TicketsPort,
  TicketView,
} from '../../src/http/ports.ts';
import { StoredUnitHours } from '../../src/rules/compliance.ts';
import { LiveState } from '../../src/state/live-state.ts';
import type { HistoryQuery } from '../../src/storage/reading-store.ts';
import { openDb } from '../../src/storage/sqlite.ts';

export const TOKENS = {
  viewer: 'tok-viewer-0123456789',
  operator: 'tok-operator-0123456789',
  engineer: 'tok-engineer-0123456789',
  expired: 'tok-expired-0123456789',
};

export const USERS: UsersConfig = {
  users: [
    { name: 'vera', role: 'viewer', tokenHash: hashToken(TOKENS.viewer) },
    { name: 'otto', role: 'operator', tokenHash: hashToken(TOKENS.operator) },
    { name: 'emma', role: 'engineer', tokenHash: hashToken(TOKENS.engineer) },
    { name: 'old', role: 'operator', tokenHash: hashToken(TOKENS.expired), expires: '2025-01-01T00:00:00Z' },
  ],
};

const NEXT: Record<string, Partial<Record<TicketAction, string>>> = {
  proposed: { approve: 'approved', reject: 'rejected' },
  approved: { apply: 'applied', reject: 'rejected' },
  applied: { close: 'closed' },
};

/**
 * An in-memory ticket queue with the lifecycle the ticket module keeps (proposed → approved →
 * applied → closed, reject before applying). A fake of our own port, for route tests only.
 */
export class FakeTickets implements TicketsPort {
  readonly tickets = new Map<string, TicketView>();

  constructor(
    private readonly clock: Clock,
    private readonly bus: EventBus<HeatEvents>,
  ) {}

  add(
    id: string,
    targetId: string,
    substationId: string,
    targetKind: 'building' | 'substation' = 'building',
  ): TicketView {
    const now = this.clock.now();
    const t: TicketView = {
      id,
      status: 'proposed',
      problem: 'building_cold',
      targetKind,
      targetId,
      substationId,
      summary: `Building ${targetId}: exposed units 2.1 °C below 18 °C for 6 h`,
      evidence: [
        { key: 'exposedMeanC', label: 'mean of exposed units', value: '16.4 °C', num: 16.4, unit: 'C' },
        { key: 'unitsBelow', label: 'units below 17.5 °C', value: '7 of 12' },
      ],
      proposal: {
        kind: 'supply-offset',
        params: { deltaC: 2 },
        description: 'Raise the supply offset by 2 °C',
        supplyOffsetC: 2,
      },
      predictedEffect: 'Rooms +0.8 °C within 12 h',
      prediction: { deltaC: 0.8, afterH: 12 },
      createdTs: now,
      updatedTs: now,
      actions: ['approve', 'reject'],
      events: [{ ts: now, actor: 'rules', kind: 'created', toStatus: 'proposed' }],
    };
    this.tickets.set(id, t);
    return t;
  }

  async list(filter: { status?: string }): Promise<TicketView[]> {
    return [...this.tickets.values()].filter((t) => !filter.status || t.status === filter.status);
  }

  async get(id: string): Promise<TicketView | undefined> {
    return this.tickets.get(id);
  }

  async act(id: string, action: TicketAction, actor: string, note?: string): Promise<TicketView> {
    const t = this.tickets.get(id);
    if (!t) throw Errors.notFound(`No ticket with id '${id}'.`, 'params.id');
    const to = NEXT[t.status]?.[action];
    if (!to) throw Errors.conflict(`Ticket ${id} is ${t.status}; it cannot be ${action}d.`);
    const now = this.clock.now();
    const from = t.status;
    t.status = to;
    t.updatedTs = now;
    if (to === 'applied') t.recheckDueTs = now + 48 * 3_600_000;
    t.actions = Object.keys(NEXT[to] ?? {}) as TicketAction[];
    t.events.push({ ts: now, actor, kind: action, fromStatus: from, toStatus: to, note });
    this.bus.emit('ticketChanged', {
      ticketId: id,
      status: to,
      previousStatus: from,
      target: t.targetId,
      problem: t.problem,
      actor,
      ts: now,
    });
    return t;
  }
}

/** History with a gentle daily wave, enough for charts and compliance; `down` makes it fail. */
export class FakeHistory implements HistoryPort {
  down = false;
  async roomHistory(q: HistoryQuery) {
    if (this.down) throw new Error('connect ECONNREFUSED');
    const out = [];
    const start = Math.ceil(q.fromMs / q.everyMs) * q.everyMs;
    const base = q.positionClass === 'top' ? 17.6 : q.positionClass === 'middle' ? 20.4 : 19.2;
    for (let ts = start; ts < q.toMs && out.length < 500; ts += q.everyMs) {
      const m = base + Math.sin((ts / 3_600_000 / 24) * 2 * Math.PI);
      out.push({ ts, meanC: m, minC: m - 0.5, maxC: m + 0.5, count: 4 });
    }
    return out;
  }
  async substationHistory(q: { substationId: string; fromMs: number; toMs: number; everyMs: number }) {
    if (this.down) throw new Error('connect ECONNREFUSED');
    const out = [];
    const start = Math.ceil(q.fromMs / q.everyMs) * q.everyMs;
    for (let ts = start; ts < q.toMs && out.length < 500; ts += q.everyMs) {
      const outdoor = -5 + 4 * Math.sin((ts / 3_600_000 / 24) * 2 * Math.PI);
      out.push({ ts, supplyTempC: 52 - outdoor * 0.6, returnTempC: 40, outdoorTempC: outdoor, count: 4 });
    }
    return out;
  }
}

/** Applies a manual reading as ingestion would: live state, then the bus. */
export class FakeManualSink implements ManualReadingSink {
  readonly received: RoomReading[] = [];
  constructor(
    private readonly live: LiveState,
    private readonly bus: EventBus<HeatEvents>,
  ) {}
  async submit(r: RoomReading) {
    this.received.push(r);
    this.live.applyRoom([r]);
    this.bus.emit('roomReadings', [r]);
    return { ok: true as const };
  }
}

export interface Harness {
  http: HeatwatchHttp;
  clock: ManualClock;
  wallClock: Clock;
  bus: EventBus<HeatEvents>;
  live: LiveState;
  tickets: FakeTickets;
  history: FakeHistory;
  manual: FakeManualSink;
  announced: string[];
  db: ReturnType<typeof openDb>;
  /** A room reading for sensor `id` at temperature `tempC`, stamped now. */
  reading(sensorId: string, tempC: number): RoomReading;
}

export async function makeHarness(
  o: {
    users?: UsersConfig;
    http?: Record<string, unknown>;
    wallClock?: Clock;
    clock?: ManualClock;
    dashboardDir?: string;
    build?: boolean;
    adminToken?: string;
    /** Replaces the in-memory ticket queue (e.g. the real TicketService through its adapter). */
    tickets?: (bus: EventBus<HeatEvents>, clock: ManualClock, live: LiveState) => TicketsPort;
    /** Replaces the demo network (e.g. thousands of generated buildings). */
    registry?: RegistryIndex;
    /** Adds the households routes over this port (built on the harness's clock, bus and live state). */
    households?: (bus: EventBus<HeatEvents>, clock: ManualClock, live: LiveState) => HttpDeps['households'];
    /** `feed`: the live stream takes ticket, case and building events from a city's live feed. */
    liveSource?: 'bus' | 'feed';
  } = {},
): Promise<Harness> {
  const cfg = loadConfig('config', {});
  const clock = o.clock ?? new ManualClock(Date.UTC(2026, 0, 15, 8, 0, 0));
  const wallClock = o.wallClock ?? clock;
  const bus = new EventBus<HeatEvents>();
  const live = new LiveState(o.registry ?? cfg.registry);
  const tickets = new FakeTickets(clock, bus);
  const history = new FakeHistory();
  const manual = new FakeManualSink(live, bus);
  const db = openDb(':memory:', { synchronous: 'NORMAL', migrations: httpMigrations });
  const announced: string[] = [];
  const deps: HttpDeps = {
    clock,
    wallClock,
    bus,
    live,
    tickets: o.tickets ? o.tickets(bus, clock, live) : tickets,
    history,
    compliance: new UnitHoursCompliance(
      new StoredUnitHours(
        history,
        () => live.index,
        () => cfg.rules,
      ),
      () => live.index,
    ),
    manual,
    households: o.households?.(bus, clock, live),
    metrics: {
      render: () => '# TYPE heatwatch_messages_received_total counter\nheatwatch_messages_received_total 3\n',
    },
    health: {
      health: async () => ({
        status: 'ok',
        broker: { connected: true },
        store: { kind: 'sqlite', reachable: true },
        spoolDepth: 0,
        configVersion: cfg.version,
      }),
    },
    engineer: {
      configSummary: () => ({ version: cfg.version, site: cfg.service.site, files: { rules: cfg.rules } }),
      dryRun: async () => ({ findings: [{ rule: 'building_cold', target: 'b1' }] }),
    },
  };
  const http = serviceSchema.parse({ http: { buildDashboard: o.build ?? false, ...(o.http ?? {}) } }).http;
  const opts: AppOptions = {
    http,
    rules: cfg.rules,
    users: o.users ?? USERS,
    adminToken: o.adminToken,
    db,
    deps,
    log: silentLogger(),
    announceAdminToken: (t) => announced.push(t),
    dashboardDir: o.dashboardDir ?? mkdtempSync(join(tmpdir(), 'hw-dash-')),
    liveSource: o.liveSource,
  };
  const app = await buildApp(opts);
  const reading = (sensorId: string, tempC: number): RoomReading => {
    const info = live.index.sensors.get(sensorId)!;
    return {
      sensorId,
      ts: clock.now(),
      tempC,
      buildingId: info.building.id,
      substationId: info.substation.id,
      floor: info.sensor.floor,
      column: info.sensor.column,
      classes: info.classes,
      source: 'sensor',
    };
  };
  return { http: app, clock, wallClock, bus, live, tickets, history, manual, announced, db, reading };
}
