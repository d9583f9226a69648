import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../firmware-sim/physics.ts';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { simSchema } from '../../src/config/sim-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { SubstationReading } from '../../src/core/readings.ts';
import { type Registry, RegistryIndex } from '../../src/core/registry.ts';
import { TicketServiceAdapter } from '../../src/http/ticket-adapter.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ConfirmationWatcher } from '../../src/tickets/confirmation.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { substationProposal } from './proposals.ts';

const START = Date.UTC(2026, 0, 15, 6);
const MIN = 60_000;
const CONFIRM_AFTER_MIN = 15;

/** Two substations with one small building each; only their controllers matter here. */
const registry: Registry = {
  substations: ['ss-a', 'ss-b'].map((id) => ({
    id,
    name: id,
    curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 },
  })),
  buildings: ['a', 'b'].map((x) => ({
    id: `b-${x}`,
    name: x,
    substationId: `ss-${x}`,
    floors: 2,
    unitsPerFloor: 2,
  })),
  sensors: ['a', 'b'].map((x) => ({
    id: `b-${x}-1-1`,
    buildingId: `b-${x}`,
    floor: 1,
    column: 1,
    intervalS: 300,
  })),
};

const index = new RegistryIndex(registry);

const proposal = (substationId: string) => substationProposal(substationId, 2, START);

/**
 * heatwatch's tickets, outbox and confirmation watcher driving the simulator's controllers
 * directly (no broker), on one ManualClock: each minute the network steps, each controller's
 * telemetry becomes the latest report, and the watcher's poll runs.
 */
function loop(controller: { ignoring?: string[]; applyDelayS?: number }, opts: { echoIds?: boolean } = {}) {
  const clock = new ManualClock(START);
  const sim = new SimNetwork(
    registry,
    simSchema.parse({ weather: { meanC: -5, dailyAmplitudeC: 0, noiseC: 0, coldSpells: [] }, controller }),
    START,
  );
  const bus = new EventBus<HeatEvents>();
  const alerts: Array<HeatEvents['alert']> = [];
  bus.on('alert', 'test', (a) => alerts.push(a));
  const rules = rulesSchema.parse({
    autoApprove: { enabled: false },
    setpoint: { confirmAfterMin: CONFIRM_AFTER_MIN, confirmPollS: 60 },
  });
  const db = openDb(':memory:', { synchronous: 'NORMAL', migrations: ticketMigrations });
  const publisher = {
    publish: async (sid: string, p: { setpointId: string }) => void sim.receiveSetpoint(sid, p),
  };
  const tickets = new TicketService(sqliteSql(db), clock, bus, publisher, () => rules, silentLogger());
  const latest = new Map<string, SubstationReading>();
  const watcher = new ConfirmationWatcher(
    clock,
    tickets.outbox,
    (sid) => latest.get(sid),
    () => rules,
    bus,
    (id, kind, actor, reason) => tickets.note(id, kind, actor, reason),
    silentLogger(),
  );
  watcher.start();
  const apply = async (sid: string, p = proposal(sid)) => {
    const id = (await tickets.propose(p)).ticket.id;
    await tickets.approve(id, 'otto');
    await tickets.apply(id, 'otto');
    await tickets.outbox.drainOnce();
    return id;
  };
  const minutes = async (n: number) => {
    for (let i = 0; i < n; i++) {
      sim.step(MIN);
      for (const sid of ['ss-a', 'ss-b']) {
        const t = sim.substationTelemetry(sid);
        // A controller that echoes no command ids reports only the offset in force.
        latest.set(sid, {
          substationId: sid,
          ...t,
          setpointId: opts.echoIds === false ? undefined : t.setpointId,
        });
      }
      await clock.advanceAsync(MIN);
    }
  };
  const kinds = async (id: string) => (await tickets.get(id))!.events.map((e) => e.kind);
  const api = new TicketServiceAdapter(
    tickets,
    () => index,
    (sid) => latest.get(sid),
  );
  return { tickets, alerts, apply, minutes, kinds, api };
}

describe('setpoint confirmation from the substation', () => {
  it('a controller that ignores the command: not confirmed after N minutes, an alert and a ticket event', async () => {
    const l = loop({ ignoring: ['ss-b'] });
    const ignored = await l.apply('ss-b');
    const obeyed = await l.apply('ss-a');
    await l.minutes(CONFIRM_AFTER_MIN - 1);
    expect((await l.tickets.setpointStatus(ignored))?.confirmation).toBe('awaiting');
    expect(l.alerts).toHaveLength(0);
    await l.minutes(2);
    expect(await l.tickets.setpointStatus(ignored)).toMatchObject({
      confirmation: 'not-confirmed',
      text: `not confirmed after ${CONFIRM_AFTER_MIN} minutes`,
    });
    expect(l.alerts).toEqual([
      expect.objectContaining({ key: 'setpoint-not-confirmed:ss-b', active: true, severity: 'critical' }),
    ]);
    expect(await l.kinds(ignored)).toContain('setpoint-not-confirmed');
    // The API shows what heatwatch sent beside what the substation reports in force.
    const view = (await l.api.get(ignored))!;
    expect(view.setpoint).toMatchObject({
      commandId: `${ignored}-apply`,
      sent: { supplyOffsetC: 2 },
      reported: { supplyOffsetC: 0 },
      confirmation: 'not-confirmed',
    });
    // The controller that obeyed at once was confirmed within a report cycle, without an alert.
    expect(await l.tickets.setpointStatus(obeyed)).toMatchObject({
      confirmation: 'confirmed',
      confirmedAfterS: 60,
    });
    await l.minutes(30);
    expect(l.alerts).toHaveLength(1);
  });

  it('a slow controller: confirmed with its delay; beyond N minutes first not confirmed, then confirmed late and the alert clears', async () => {
    const slow = loop({ applyDelayS: 10 * 60 });
    const id = await slow.apply('ss-a');
    await slow.minutes(CONFIRM_AFTER_MIN + 5);
    const s = (await slow.tickets.setpointStatus(id))!;
    expect(s.confirmation).toBe('confirmed');
    // Applied after 10 min; seen in the next report.
    expect(s.confirmedAfterS).toBeGreaterThanOrEqual(600);
    expect(s.confirmedAfterS).toBeLessThanOrEqual(660);
    expect(s.text).toMatch(/^confirmed after 1[01] min$/);
    expect(slow.alerts).toHaveLength(0);

    const late = loop({ applyDelayS: 25 * 60 });
    const lateId = await late.apply('ss-a');
    await late.minutes(CONFIRM_AFTER_MIN + 1);
    expect((await late.tickets.setpointStatus(lateId))?.confirmation).toBe('not-confirmed');
    await late.minutes(15);
    expect(await late.tickets.setpointStatus(lateId)).toMatchObject({ confirmation: 'confirmed' });
    expect((await late.tickets.setpointStatus(lateId))!.confirmedAfterS).toBeGreaterThanOrEqual(25 * 60);
    expect(late.alerts.map((a) => a.active)).toEqual([true, false]);
    expect((await late.kinds(lateId)).filter((k) => k.startsWith('setpoint-'))).toEqual([
      'setpoint-published',
      'setpoint-not-confirmed',
      'setpoint-confirmed',
    ]);
  });

  it('a command that leaves the offset as it was is confirmed only by its id, never by an unchanged offset', async () => {
    const l = loop({ ignoring: ['ss-b'] });
    const valves = {
      ...proposal('ss-b'),
      problem: 'building_cold' as const,
      targetKind: 'building' as const,
      targetId: 'b-b',
      action: { kind: 'valves' as const, valves: { 'b-b': 100 }, previous: { 'b-b': 70 } },
    };
    const ignored = await l.apply('ss-b', valves);
    const obeyed = await l.apply('ss-a', { ...valves, substationId: 'ss-a', targetId: 'b-a' });
    await l.minutes(CONFIRM_AFTER_MIN + 1);
    // The ignoring controller still reports offset 0, which is what the valve command asked for.
    expect(await l.tickets.setpointStatus(ignored)).toMatchObject({
      confirmation: 'not-confirmed',
      sent: { supplyOffsetC: 0 },
    });
    expect((await l.tickets.setpointStatus(obeyed))?.confirmation).toBe('confirmed');
  });

  it('a controller that echoes no ids is judged by the offset it reports, once the command moved it', async () => {
    const l = loop({ ignoring: ['ss-b'] }, { echoIds: false });
    const moved = await l.apply('ss-a');
    const ignored = await l.apply('ss-b');
    await l.minutes(CONFIRM_AFTER_MIN + 1);
    expect(await l.tickets.setpointStatus(moved)).toMatchObject({
      confirmation: 'confirmed',
      reported: { supplyOffsetC: 2 },
    });
    expect((await l.tickets.setpointStatus(ignored))?.confirmation).toBe('not-confirmed');
  });
});
