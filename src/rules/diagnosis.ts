import { buildingFlowShare, buildingOverheat } from './diagnose-buildings.ts';
import { coverageTasks, exposedCold, sensorFaults } from './diagnose-field.ts';
import { supplyNotFollowing } from './diagnose-meter.ts';
import { preheat } from './diagnose-preheat.ts';
import { substationCold } from './diagnose-raise.ts';
import { substationOverheat, undoLowering } from './diagnose-supply.ts';
import { type Diagnosed, type DiagnosisInput, type Estate, estateOf, findingSets } from './estate.ts';

export type { Diagnosed, DiagnosisInput } from './estate.ts';
export { substationMeasure } from './estate.ts';
export type { ResponseEstimate } from './response-learner.ts';

/**
 * The causes the diagnosis tells apart, one small function each, in the order their proposals are
 * handed on: a cold substation (supply level, or slope when it is cold only on cold days), single cold
 * buildings (flow share), exposed units only (a field task, not more supply), over-temperature (lower
 * supply, or throttle one building), a coming cold spell (pre-heat), and the sensors themselves.
 */
const CAUSES: ReadonlyArray<(e: Estate) => Diagnosed[]> = [
  substationCold,
  undoLowering,
  buildingFlowShare,
  exposedCold,
  substationOverheat,
  buildingOverheat,
  preheat,
  coverageTasks,
  sensorFaults,
  supplyNotFollowing,
];

/**
 * Diagnosis before proposal (issue #4): findings and estimates in, sized and clamped proposals out.
 * Pure: no clock, no I/O.
 */
export function diagnose(inp: DiagnosisInput): Diagnosed[] {
  const sets = findingSets(inp.findings, inp.now);
  const out: Diagnosed[] = [];
  for (const [sid, buildings] of inp.index.buildingsBySubstation) {
    const e = estateOf(inp, sets, sid, buildings);
    for (const cause of CAUSES) out.push(...cause(e));
  }
  return out;
}
