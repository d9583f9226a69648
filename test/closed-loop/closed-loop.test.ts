import { describe, expect, it } from 'vitest';
import { type LoopResult, runLoop } from './harness.ts';

const h = (r: LoopResult, ts: number) => ((ts - r.startTs) / 3_600_000).toFixed(1);

/**
 * Closed loop (issue #4 acceptance): the simulated network, direct-coupled to LiveState, over a week
 * with the scenario's cold spell, with heatwatch acting and with it only watching (same seed).
 */
describe('closed loop with the simulator', () => {
  it('finds the faulty buildings, acts fittingly, pre-heats before the cold spell, and re-checks resolve', async () => {
    const acting = await runLoop('acting');
    const watching = await runLoop('watching');
    const { underSupplied, unbalanced } = acting.faults;
    expect(underSupplied.length + unbalanced.length).toBeGreaterThan(0);

    // Under-supplied buildings: a flow-share action (their entry valve), applied on its own.
    for (const b of underSupplied) {
      const t = acting.tickets.find((x) => x.targetId === b && x.problem === 'building_cold');
      expect(t, `ticket for under-supplied ${b}`).toBeDefined();
      expect(t!.action.kind).toBe('valves');
      expect(t!.appliedTs).toBeDefined();
    }
    // Unbalanced buildings: a field task on the risers, never more supply or a valve.
    for (const b of unbalanced) {
      const ts = acting.tickets.filter((x) => x.targetId === b);
      expect(ts.map((x) => x.problem)).toContain('exposed_cold');
      expect(ts.filter((x) => x.action.kind !== 'field' && x.appliedTs !== undefined)).toEqual([]);
    }
    // Pre-heating published before the cold spell starts, for every substation.
    const preheats = acting.tickets.filter((x) => x.problem === 'cold_spell');
    expect(preheats.length).toBe(4);
    for (const t of preheats) expect(t.appliedTs!).toBeLessThan(acting.spellStartTs);
    // Re-checks resolve.
    const resolved = acting.tickets.filter((x) => x.status === 'resolved');
    expect(resolved.length).toBeGreaterThanOrEqual(underSupplied.length + preheats.length);
    // Acting beats watching on comfort.
    expect(acting.shareAtOrAbove18).toBeGreaterThan(watching.shareAtOrAbove18);
    expect(acting.degreeHoursBelow18).toBeLessThan(watching.degreeHoursBelow18);
    // Watching only: proposals exist but nothing was published.
    expect(watching.published).toEqual([]);
    expect(watching.tickets.length).toBeGreaterThan(0);

    const line = (r: LoopResult) =>
      `${r.mode.padEnd(8)} unit-hours ≥ 18 °C ${(100 * r.shareAtOrAbove18).toFixed(1)} %, degree-hours below 18 °C ${r.degreeHoursBelow18.toFixed(0)}, heat delivered ${(r.heatKWh / 1000).toFixed(1)} MWh`;
    console.log(
      [
        `closed loop, 7 days, seed 42; faults: under-supplied ${underSupplied.join(',')}, unbalanced ${unbalanced.join(',')}; spell starts at ${h(acting, acting.spellStartTs)} h`,
        line(acting),
        line(watching),
        ...acting.tickets.map(
          (t) =>
            `  ${t.id} ${t.status.padEnd(10)} ${t.problem.padEnd(15)} ${t.targetId.padEnd(8)} created ${h(acting, t.createdTs)} h${t.appliedTs ? `, applied ${h(acting, t.appliedTs)} h` : ''}: ${t.summary.slice(0, 90)}`,
        ),
      ].join('\n'),
    );
  }, 120_000);
});
