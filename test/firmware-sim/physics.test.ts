import { describe, expect, it } from 'vitest';
import { SimNetwork, spellDepth } from '../../firmware-sim/physics.ts';
import { type SimConfig, simSchema } from '../../src/config/sim-schema.ts';
import { positionClasses, type Registry } from '../../src/core/registry.ts';

const START = Date.UTC(2026, 0, 15);
const H = 3_600_000;
const curve = { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 };

/** Two estates of three 8-floor, 4-unit buildings; b-a2 is the scripted under-supplied one. */
function registry(): Registry {
  const buildings = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3'].map((id) => ({
    id: `b-${id}`,
    name: id,
    substationId: id.startsWith('a') ? 'ss-a' : 'ss-b',
    floors: 8,
    unitsPerFloor: 4,
  }));
  return {
    substations: [
      { id: 'ss-a', name: 'A', curve },
      { id: 'ss-b', name: 'B', curve },
    ],
    buildings,
    sensors: buildings.map((b) => ({
      id: `${b.id}-4-2`,
      buildingId: b.id,
      floor: 4,
      column: 2,
      intervalS: 300,
    })),
  };
}

/** Calm, constant weather so only the effect under test moves the rooms. */
function scenario(over: Record<string, unknown> = {}): SimConfig {
  return simSchema.parse({
    weather: { meanC: -5, dailyAmplitudeC: 0, noiseC: 0, coldSpells: [] },
    faults: { underSupplied: ['b-a2'], unbalanced: ['b-b2'] },
    ...over,
  });
}

function classMeans(
  net: SimNetwork,
  id: string,
): { middle: number; exposed: number; corner: number; all: number } {
  const acc = {
    middle: [] as number[],
    exposed: [] as number[],
    corner: [] as number[],
    all: [] as number[],
  };
  for (let f = 1; f <= 8; f++)
    for (let c = 1; c <= 4; c++) {
      const cls = positionClasses(f, c, 8, 4);
      const t = net.unitTempC(id, f, c);
      acc.all.push(t);
      (cls.includes('middle') ? acc.middle : acc.exposed).push(t);
      if (cls.includes('top') && cls.includes('gable')) acc.corner.push(t);
    }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return {
    middle: mean(acc.middle),
    exposed: mean(acc.exposed),
    corner: mean(acc.corner),
    all: mean(acc.all),
  };
}

describe('SimNetwork physics', () => {
  it('steady state: exposed units are colder than middle units, a top corner the coldest', () => {
    const net = new SimNetwork(registry(), scenario(), START);
    net.step(48 * H);
    const m = classMeans(net, 'b-a1');
    expect(m.middle).toBeGreaterThan(20);
    expect(m.middle).toBeLessThan(21.2);
    expect(m.exposed).toBeLessThan(m.middle - 0.5);
    expect(m.exposed).toBeGreaterThan(18.5);
    expect(m.corner).toBeLessThan(m.exposed);
  });

  it('an under-supplied building is colder than its neighbours, an unbalanced one only at its exposed units', () => {
    const net = new SimNetwork(registry(), scenario(), START);
    net.step(48 * H);
    const under = classMeans(net, 'b-a2');
    const healthy = classMeans(net, 'b-a1');
    expect(under.all).toBeLessThan(healthy.all - 2.5);
    expect(under.middle).toBeLessThan(18);
    const unbalanced = classMeans(net, 'b-b2');
    const neighbour = classMeans(net, 'b-b1');
    expect(Math.abs(unbalanced.middle - neighbour.middle)).toBeLessThan(0.6);
    expect(unbalanced.exposed).toBeLessThan(neighbour.exposed - 1);
  });

  it('raising a substation offset warms its rooms over hours, not at once, and not the other estate', () => {
    const net = new SimNetwork(registry(), scenario(), START);
    net.step(24 * H);
    const before = net.unitTempC('b-a1', 4, 2);
    const other = net.unitTempC('b-b1', 4, 2);
    net.applySetpoint('ss-a', { supplyOffset: 4 });
    net.step(1 * H);
    const after1h = net.unitTempC('b-a1', 4, 2) - before;
    net.step(17 * H);
    const after18h = net.unitTempC('b-a1', 4, 2) - before;
    net.step(54 * H);
    const final = net.unitTempC('b-a1', 4, 2) - before;
    // 0.3–0.5 °C of room per °C of supply in the end (radiator exponent and envelope loss).
    expect(final / 4).toBeGreaterThan(0.3);
    expect(final / 4).toBeLessThan(0.6);
    expect(after1h / final).toBeLessThan(0.3);
    expect(after18h / final).toBeGreaterThan(0.6);
    expect(Math.abs(net.unitTempC('b-b1', 4, 2) - other)).toBeLessThan(0.01);
    expect(net.substationTelemetry('ss-a').supplyOffsetC).toBe(4);
  });

  it('a controller reports the command it applied; one told to ignore drops it, a slow one applies it late', () => {
    const net = new SimNetwork(
      registry(),
      scenario({ controller: { ignoring: ['ss-b'], applyDelayS: 600 } }),
      START,
    );
    expect(net.substationTelemetry('ss-a').setpointId).toBeUndefined();
    expect(net.receiveSetpoint('ss-a', { supplyOffset: 3, setpointId: 'SP-1' })).toBe('queued');
    expect(net.receiveSetpoint('ss-b', { supplyOffset: 3, setpointId: 'SP-2' })).toBe('ignored');
    net.step(540_000);
    expect(net.substationTelemetry('ss-a')).toMatchObject({ supplyOffsetC: 0, setpointId: undefined });
    net.step(120_000);
    expect(net.substationTelemetry('ss-a')).toMatchObject({ supplyOffsetC: 3, setpointId: 'SP-1' });
    expect(net.substationTelemetry('ss-b')).toMatchObject({ supplyOffsetC: 0, setpointId: undefined });
    const prompt = new SimNetwork(registry(), scenario(), START);
    expect(prompt.receiveSetpoint('ss-b', { supplyOffset: -1, setpointId: 'SP-3' })).toBe('applied');
    expect(prompt.substationTelemetry('ss-b')).toMatchObject({ supplyOffsetC: -1, setpointId: 'SP-3' });
  });

  it('a cold spell lowers room temperatures and raises heat use, and the forecast sees it coming', () => {
    const sc = scenario({
      weather: {
        meanC: -5,
        dailyAmplitudeC: 0,
        noiseC: 0,
        forecastErrorC: 0.5,
        coldSpells: [{ startH: 24, depthC: 10, durationH: 24, rampH: 6 }],
      },
    });
    const net = new SimNetwork(registry(), sc, START);
    net.step(20 * H);
    const fc = net.forecast();
    expect(fc.points).toHaveLength(72);
    const coldest = Math.min(...fc.points.map((p) => p.outdoorTempC));
    expect(coldest).toBeLessThan(-13);
    const before = net.unitTempC('b-a1', 8, 1);
    const heatBefore = net.substationTelemetry('ss-a').heatKw;
    net.step(22 * H);
    expect(net.outdoorTempC()).toBeCloseTo(-15, 5);
    expect(net.unitTempC('b-a1', 8, 1)).toBeLessThan(before - 0.5);
    expect(net.substationTelemetry('ss-a').heatKw).toBeGreaterThan(heatBefore * 1.2);
  });

  it('opening the entry valve of the under-supplied building warms it', () => {
    const net = new SimNetwork(registry(), scenario(), START);
    const before = classMeans(net, 'b-a2').all;
    net.applySetpoint('ss-a', { buildingValves: { 'b-a2': 100 } });
    net.step(48 * H);
    expect(classMeans(net, 'b-a2').all).toBeGreaterThan(before + 0.7);
  });

  it('is deterministic per seed, and different seeds pick different weather and faults', () => {
    const run = (seed: number) => {
      const sc = simSchema.parse({ seed });
      const net = new SimNetwork(registry(), sc, START);
      net.step(30 * H);
      return {
        t: net.sensorTempC('b-a1-4-2'),
        out: net.outdoorTempC(),
        faults: net.faults(),
        heat: net.heatDeliveredKWh(),
      };
    };
    expect(run(7)).toEqual(run(7));
    const outs = new Set([1, 2, 3, 4, 5].map((s) => run(s).out.toFixed(3)));
    expect(outs.size).toBeGreaterThan(1);
    expect(run(7).faults.underSupplied).toHaveLength(1);
  });

  it('step size does not change the result beyond numerical error', () => {
    const a = new SimNetwork(registry(), scenario(), START);
    const b = new SimNetwork(registry(), scenario(), START);
    a.step(12 * H);
    for (let i = 0; i < 12 * 60; i++) b.step(60_000);
    expect(Math.abs(a.unitTempC('b-a1', 8, 4) - b.unitTempC('b-a1', 8, 4))).toBeLessThan(1e-6);
    expect(a.nowMs).toBe(START + 12 * H);
  });

  it('heat delivered is the integral of metered heat, and return is below supply', () => {
    const net = new SimNetwork(registry(), scenario(), START);
    const tel = net.substationTelemetry('ss-a');
    net.step(10 * H);
    expect(net.heatDeliveredKWh('ss-a')).toBeCloseTo(tel.heatKw * 10, -1);
    expect(tel.returnTempC).toBeLessThan(tel.supplyTempC - 10);
    expect(tel.flowM3h).toBeGreaterThan(0);
  });

  it('cold spell profile ramps down, holds and recovers', () => {
    const spell = { startH: 10, depthC: 8, durationH: 5, rampH: 2 };
    expect([9, 11, 12, 16, 18, 20].map((h) => spellDepth(spell, h))).toEqual([0, 4, 8, 8, 4, 0]);
  });
});
