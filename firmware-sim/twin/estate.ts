/**
 * Draws one estate from a scenario and a seed: the registry heatwatch is given (substations with
 * their curves, buildings, a sensor sample placed by DOMAIN's sampling rule) and, kept apart, the
 * physics only the twin knows (each building's inertia, losses, radiators, valves, residents).
 */
import { networkSchema, toRegistry } from '../../src/config/network-schema.ts';
import { isExposed, positionClasses, RegistryIndex } from '../../src/core/registry.ts';
import { hash01 } from '../random.ts';
import type { TwinScenario } from './scenario.ts';

export interface SubstationPhysics {
  id: string;
  /** °C the curve gives above what its buildings' radiators need at the design point (+: too high). */
  curveExcessC: number;
  transportDelayH: number;
  supplyLagMin: number;
  pipeDropC: number;
}

export interface BuildingPhysics {
  id: string;
  substationId: string;
  floors: number;
  unitsPerFloor: number;
  timeConstantH: number;
  uaMiddleKwK: number;
  topExtra: number;
  groundExtra: number;
  gableExtra: number;
  radiatorSizing: number;
  exposedSizingExponent: number;
  gainsKw: number;
  windowOpenAboveC: number;
  windowLossFactor: number;
  entryValveDesignPct: number;
  /** Opening the valve is left at: the design opening, or less when mis-set. */
  entryValveStartPct: number;
  /** Flow factor of exposed units (1, or less with long risers). */
  exposedFlowFactor: number;
}

export interface Estate {
  registry: RegistryIndex;
  substations: SubstationPhysics[];
  buildings: BuildingPhysics[];
}

type Range = readonly [number, number];

export function drawEstate(sc: TwinScenario, seed: number): Estate {
  const draw = (r: Range, ...key: Array<string | number>) => r[0] + (r[1] - r[0]) * hash01(seed, ...key);
  const drawInt = (r: Range, ...key: Array<string | number>) =>
    Math.floor(draw([r[0], r[1] + 0.999], ...key));
  const n = sc.network;
  const b = sc.buildings;
  const subs: SubstationPhysics[] = [];
  const buildings: BuildingPhysics[] = [];
  const netSubs: Array<Record<string, unknown>> = [];
  const netBuildings: Array<Record<string, unknown>> = [];
  for (let i = 1; i <= n.substations; i++) {
    const id = `ss${String(i).padStart(2, '0')}`;
    const kind = hash01(seed, 'curve-kind', id);
    const excess =
      kind < n.tooHighShare
        ? draw(n.tooHighC, 'too-high', id)
        : kind < n.tooHighShare + n.tooLowShare
          ? -draw(n.tooLowC, 'too-low', id)
          : draw([-1, 1], 'curve-ok', id);
    subs.push({
      id,
      curveExcessC: excess,
      transportDelayH: draw(n.transportDelayH, 'delay', id),
      supplyLagMin: draw(n.supplyLagMin, 'lag', id),
      pipeDropC: draw(n.pipeDropC, 'drop', id),
    });
    netSubs.push({
      id,
      curve: {
        refOutdoorC: 5,
        refSupplyC: round1(draw(n.curveRefSupplyC, 'ref', id)),
        slope: Math.round(draw(n.curveSlope, 'slope', id) * 100) / 100,
        minSupplyC: n.minSupplyC,
        maxSupplyC: n.maxSupplyC,
      },
    });
    const count = drawInt(n.buildingsPerSubstation, 'buildings', id);
    for (let k = 1; k <= count; k++) {
      const bid = `${id}-b${String(k).padStart(2, '0')}`;
      const floors = drawInt(n.floors, 'floors', bid);
      const unitsPerFloor = drawInt(n.unitsPerFloor, 'width', bid);
      const design = draw(b.entryValveDesignPct, 'valve', bid);
      const misSet = hash01(seed, 'misset', bid) < b.misSetValveShare;
      const unbalanced = hash01(seed, 'unbalanced', bid) < b.unbalancedShare;
      buildings.push({
        id: bid,
        substationId: id,
        floors,
        unitsPerFloor,
        timeConstantH: draw(b.timeConstantH, 'tau', bid),
        uaMiddleKwK: draw(b.uaMiddleWPerK, 'ua', bid) / 1000,
        topExtra: draw(b.topExtra, 'top', bid),
        groundExtra: draw(b.groundExtra, 'ground', bid),
        gableExtra: draw(b.gableExtra, 'gable', bid),
        radiatorSizing: draw(b.radiatorSizing, 'sizing', bid),
        exposedSizingExponent: draw(b.exposedSizingExponent, 'exposed-sizing', bid),
        gainsKw: draw(b.internalGainsW, 'gains', bid) / 1000,
        windowOpenAboveC: draw(b.windowOpenAboveC, 'window', bid),
        windowLossFactor: draw(b.windowLossFactor, 'window-loss', bid),
        entryValveDesignPct: design,
        entryValveStartPct: misSet ? design * draw(b.misSetFlowFactor, 'misset-factor', bid) : design,
        exposedFlowFactor: unbalanced ? draw(b.unbalancedFlowFactor, 'unbalanced-factor', bid) : 1,
      });
      netBuildings.push({
        id: bid,
        substation: id,
        floors,
        unitsPerFloor,
        sensors: placeSensors(
          seed,
          bid,
          floors,
          unitsPerFloor,
          drawInt(n.sensorsPerBuilding, 'sensors', bid),
        ),
      });
    }
  }
  const net = networkSchema.parse({
    defaults: { sensorIntervalS: sc.stepMin * 60 },
    substations: netSubs,
    buildings: netBuildings,
  });
  return { registry: new RegistryIndex(toRegistry(net)), substations: subs, buildings };
}

/**
 * A sensor sample as a heating company would place it: one unit of every position class the
 * building has, then about half exposed and half middle units (DOMAIN's rule: exposed at least 40 %).
 */
function placeSensors(
  seed: number,
  id: string,
  floors: number,
  width: number,
  wanted: number,
): Array<{ floor: number; column: number }> {
  const units: Array<{ floor: number; column: number; exposed: boolean; r: number }> = [];
  for (let floor = 1; floor <= floors; floor++)
    for (let column = 1; column <= width; column++)
      units.push({
        floor,
        column,
        exposed: isExposed(positionClasses(floor, column, floors, width)),
        r: hash01(seed, 'place', id, floor, column),
      });
  units.sort((a, b) => a.r - b.r);
  const count = Math.min(wanted, units.length);
  const chosen = new Set<(typeof units)[number]>();
  for (const cls of ['top', 'ground', 'gable', 'middle'] as const) {
    const u = units.find((x) => positionClasses(x.floor, x.column, floors, width).includes(cls));
    if (u && chosen.size < count) chosen.add(u);
  }
  const exposedWanted = Math.ceil(count / 2);
  const exposedNow = () => [...chosen].filter((u) => u.exposed).length;
  for (const u of units) {
    if (chosen.size >= count) break;
    if (chosen.has(u)) continue;
    const needExposed = exposedNow() < exposedWanted;
    const middleLeft = units.some((x) => !x.exposed && !chosen.has(x));
    if (u.exposed === needExposed || (!needExposed && !middleLeft)) chosen.add(u);
  }
  for (const u of units) if (chosen.size < count && !chosen.has(u)) chosen.add(u);
  return [...chosen]
    .sort((a, b) => a.floor - b.floor || a.column - b.column)
    .map((u) => ({ floor: u.floor, column: u.column }));
}

const round1 = (x: number) => Math.round(x * 10) / 10;
