import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadRules } from '../../firmware-sim/twin/run.ts';
import { loadScenario } from '../../firmware-sim/twin/scenario.ts';
import { type RulesConfig, rulesSchema } from '../../src/config/rules-schema.ts';
import { type SimConfig, simSchema } from '../../src/config/sim-schema.ts';

/**
 * The twin judges the engine only if the engine does not start from the twin's own numbers
 * (issue #11: priorLagH 12 was the simulator's timeConstantH 12, nominalValvePct 70 its entry-valve
 * opening). For each quantity both sides have, no rules default or shipped rules value may equal a
 * value or range end of a shipped scenario or of the demo simulator. The engine learns the rest.
 */
type Quantity = 'lag or lead, h' | 'valve opening, %' | 'flow share of nominal';

function rulesValues(r: RulesConfig): Array<[Quantity, string, number]> {
  return [
    ['lag or lead, h', 'response.priorLagH', r.response.priorLagH],
    ['lag or lead, h', 'coldSpell.defaultLeadH', r.coldSpell.defaultLeadH],
    ['lag or lead, h', 'substationMeter.priorSupplyLagMin / 60', r.substationMeter.priorSupplyLagMin / 60],
    ['valve opening, %', 'limits.nominalValvePct', r.limits.nominalValvePct],
    // Opening a valve from its assumed nominal to the top restores this share of lost flow.
    [
      'flow share of nominal',
      'limits.nominalValvePct / maxValvePct',
      r.limits.nominalValvePct / r.limits.maxValvePct,
    ],
  ];
}

function simValues(s: SimConfig): Array<[Quantity, string, number]> {
  return [
    ['lag or lead, h', 'physics.timeConstantH', s.physics.timeConstantH],
    ['lag or lead, h', 'physics.networkLagMin / 60', s.physics.networkLagMin / 60],
    ['valve opening, %', 'physics.nominalValvePct', s.physics.nominalValvePct],
    ['valve opening, %', 'physics.nominalEntryValvePct', s.physics.nominalEntryValvePct],
    ['flow share of nominal', 'faults.underSupplyFactor', s.faults.underSupplyFactor],
    ['flow share of nominal', 'faults.unbalancedExposedFactor', s.faults.unbalancedExposedFactor],
  ];
}

function scenarioValues(file: string): Array<[Quantity, string, number]> {
  const sc = loadScenario(file);
  const ends = (q: Quantity, name: string, r: readonly [number, number], scale = 1) =>
    r.map((v, i) => [q, `${name}[${i}]`, v * scale] as [Quantity, string, number]);
  return [
    ...ends('lag or lead, h', 'buildings.timeConstantH', sc.buildings.timeConstantH),
    ...ends('lag or lead, h', 'network.transportDelayH', sc.network.transportDelayH),
    ...ends('lag or lead, h', 'network.supplyLagMin / 60', sc.network.supplyLagMin, 1 / 60),
    ...ends('valve opening, %', 'buildings.entryValveDesignPct', sc.buildings.entryValveDesignPct),
    ...ends('flow share of nominal', 'buildings.misSetFlowFactor', sc.buildings.misSetFlowFactor),
    ...ends('flow share of nominal', 'buildings.unbalancedFlowFactor', sc.buildings.unbalancedFlowFactor),
  ];
}

describe('no engine prior equals a twin value', () => {
  it('rules defaults and config/rules.yaml share no number with any scenario or the demo simulator', () => {
    const rules = [...rulesValues(rulesSchema.parse({})), ...rulesValues(loadRules('config/rules.yaml'))];
    const twin: Array<[Quantity, string, number]> = [
      ...simValues(simSchema.parse({})).map(
        ([q, k, v]) => [q, `sim default ${k}`, v] as [Quantity, string, number],
      ),
      ...simValues(simSchema.parse(parse(readFileSync('config/sim.yaml', 'utf8')))).map(
        ([q, k, v]) => [q, `config/sim.yaml ${k}`, v] as [Quantity, string, number],
      ),
      ...readdirSync('firmware-sim/scenarios')
        .filter((f) => f.endsWith('.yaml'))
        .flatMap((f) =>
          scenarioValues(join('firmware-sim/scenarios', f)).map(
            ([q, k, v]) => [q, `${f} ${k}`, v] as [Quantity, string, number],
          ),
        ),
    ];
    expect(twin.length).toBeGreaterThan(20);
    const clashes = rules.flatMap(([q, rk, rv]) =>
      twin
        .filter(([tq, , tv]) => tq === q && Math.abs(tv - rv) < 1e-9)
        .map(([, tk]) => `${rk} = ${rv} = ${tk}`),
    );
    expect(clashes).toEqual([]);
  });
});
