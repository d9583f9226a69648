import { coverage } from './coverage.ts';
import { type Diagnosed, type Estate, field } from './estate.ts';
import { imbalanceInside } from './imbalance-inside.ts';
import { sensorHealth } from './sensor-health.ts';
import { round1 } from './view.ts';

/** Exposed units colder than the normal position effect allows: balancing in the building, not supply. */
export function exposedCold(e: Estate): Diagnosed[] {
  const out: Diagnosed[] = [];
  for (const [bid, f] of e.f.inside) {
    if (!e.buildings.some((b) => b.id === bid)) continue;
    out.push(
      field(
        e,
        { kind: 'building', id: bid, valueC: e.inp.picture(bid).exposedMeanC },
        'exposed_cold',
        [imbalanceInside.id],
        f.evidence,
        e.baselineOf(f.valueC),
        `${bid}: top/ground/gable units ${round1(Number(f.evidence.gapC))} °C colder than middle units (normal ${round1(Number(f.evidence.normalGapC))} °C)${e.exposedOnly(bid) ? ', middle units fine' : ''}: check risers, riser valves and radiator filters of the exposed units; not more supply.`,
        f.state === 'flapping',
      ),
    );
  }
  // Exposed flats cold beyond the normal position effect by the picture, before the imbalance
  // rule's longer minimum duration: the supply held them warm meanwhile (diagnose-raise.ts), which
  // can narrow the gap before that rule fires — the riser task is raised now, not masked.
  for (const b of e.judged) {
    if (e.f.inside.has(b.id) || !e.f.corner.has(b.id) || !e.exposedOnly(b.id)) continue;
    const p = e.inp.picture(b.id);
    const gapC = (p.middleMeanC ?? Number.NaN) - (p.exposedMeanC ?? Number.NaN);
    out.push(
      field(
        e,
        { kind: 'building', id: b.id, valueC: p.exposedMeanC },
        'exposed_cold',
        [imbalanceInside.id],
        { gapC: round1(gapC), exposedMeanC: p.exposedMeanC, middleMeanC: p.middleMeanC },
        e.baselineOf(p.exposedMeanC ?? Number.NaN),
        `${b.id}: top/ground/gable units ${round1(gapC)} °C colder than middle units, middle units fine: check risers, riser valves and radiator filters of the exposed units; the supply holds them warm meanwhile.`,
        false,
      ),
    );
  }
  return out;
}

/** Sensors that do not represent the building (docs/domain.md 40 % rule, offline sensors): a field task. */
export function coverageTasks(e: Estate): Diagnosed[] {
  const out: Diagnosed[] = [];
  for (const b of e.buildings) {
    const c = e.f.cover.get(b.id);
    if (!c) continue;
    const missing = (c.evidence.missingClasses as string[]).join(', ') || 'none';
    out.push(
      field(
        e,
        { kind: 'building', id: b.id },
        'coverage',
        [coverage.id],
        c.evidence,
        e.baselineOf(c.valueC),
        `${b.id}: sensors do not represent the building (exposed share ${c.evidence.exposedShare}, classes missing: ${missing}, fresh ${c.evidence.freshShare}): restore offline sensors / complete the sample (40 % sampling rule).`,
        c.state === 'flapping',
      ),
    );
  }
  return out;
}

/** Stuck sensors of a building: replace or re-seat them. */
export function sensorFaults(e: Estate): Diagnosed[] {
  const out: Diagnosed[] = [];
  for (const b of e.buildings) {
    const stuck = [...e.f.health.values()].filter(
      (f) => f.evidence.buildingId === b.id && f.evidence.kind === 'stuck',
    );
    if (stuck.length === 0) continue;
    out.push(
      field(
        e,
        { kind: 'building', id: b.id },
        'sensor_fault',
        [sensorHealth.id],
        { stuckSensors: stuck.map((f) => f.targetId) },
        e.baselineOf(stuck.length),
        `${b.id}: ${stuck.length} sensor(s) report a value that has not moved for ${e.cfg.sensorHealth.stuckAfterH} h: replace or re-seat them.`,
        false,
      ),
    );
  }
  return out;
}
