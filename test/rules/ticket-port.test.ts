import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { RulesEngine } from '../../src/rules/engine.ts';
import type { TicketPort } from '../../src/rules/ports.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { NEUTRAL_SETPOINT, type Proposal, type Ticket } from '../../src/tickets/types.ts';
import { HOUR, MIN, rules, smallRegistry } from './fixture.ts';

/** An in-memory TicketPort: the engine needs nothing more of the ticket store. */
function memoryTickets(): TicketPort & { proposals: Proposal[] } {
  const tickets: Ticket[] = [];
  const proposals: Proposal[] = [];
  return {
    proposals,
    list: async () => tickets,
    openFor: async (targetId, problem) =>
      tickets.find((t) => t.targetId === targetId && t.problem === problem),
    settling: async () => [],
    setpointOf: async () => structuredClone(NEUTRAL_SETPOINT),
    setpoints: async () => new Map(),
    async propose(p) {
      proposals.push(p);
      const t: Ticket = {
        ...p,
        id: `M-${tickets.length + 1}`,
        status: 'proposed',
        createdTs: 0,
        updatedTs: 0,
        occurrences: 1,
        flapping: false,
        suppressedCount: 0,
        autoApply: false,
      };
      tickets.push(t);
      return { outcome: 'created', ticket: t };
    },
    noteSuppressed: async () => {},
    supersede: async () => {},
    revisePreheat: async () => {},
    advanceRecheck: async () => {},
    applyDue: async () => [],
  };
}

describe('the engine behind the TicketPort', () => {
  it('diagnoses a cold building into a valve proposal with no ticket database at all', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15));
    const index = smallRegistry(4);
    const live = new LiveState(index);
    const port = memoryTickets();
    const engine = new RulesEngine(clock, live, port, rules(), silentLogger());
    for (let t = 0; t < 2 * HOUR; t += 5 * MIN) {
      clock.advance(5 * MIN);
      for (const s of index.sensors.values())
        live.applyRoom([
          {
            sensorId: s.sensor.id,
            ts: clock.now(),
            tempC: (s.building.id === 'b2' ? 16.5 : 21) + ((t / (5 * MIN)) % 2) * 0.1,
            buildingId: s.building.id,
            substationId: 'ss',
            floor: s.sensor.floor,
            column: s.sensor.column,
            classes: s.classes,
            source: 'sensor',
          },
        ]);
      await engine.tick();
    }
    // Refreshed every recheck.refreshS while it waits, always the same remedy.
    expect(new Set(port.proposals.map((p) => `${p.targetId} ${p.problem} ${p.action.kind}`))).toEqual(
      new Set(['b2 building_cold valves']),
    );
  });
});
