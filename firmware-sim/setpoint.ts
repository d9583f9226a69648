import type { SimSetpoint } from './hydraulics.ts';

/**
 * A setpoint payload (docs/architecture.md "The contract", with slopeDelta and buildingValves),
 * read with absolute semantics: a message is the full setpoint in force, so a missing `supplyTemp` returns the
 * substation to its curve. Bad input is refused with a reason, never thrown.
 */
export function parseSetpoint(
  payload: Buffer,
): { ok: true; value: SimSetpoint } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, reason: 'bad_shape' };
  const o = raw as Record<string, unknown>;
  const num = (k: string): number | undefined | 'bad' => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    return typeof v === 'number' && Number.isFinite(v) ? v : 'bad';
  };
  const value: SimSetpoint = {};
  for (const k of ['supplyOffset', 'slopeDelta', 'valve'] as const) {
    const v = num(k);
    if (v === 'bad') return { ok: false, reason: `${k}_not_number` };
    if (v !== undefined) value[k] = v;
  }
  const st = num('supplyTemp');
  if (st === 'bad') return { ok: false, reason: 'supplyTemp_not_number' };
  value.supplyTemp = st ?? null;
  if (o.setpointId !== undefined) {
    if (typeof o.setpointId !== 'string' || o.setpointId.length > 200)
      return { ok: false, reason: 'setpointId_shape' };
    value.setpointId = o.setpointId;
  }
  if (o.buildingValves !== undefined) {
    const bv = o.buildingValves;
    if (typeof bv !== 'object' || bv === null || Array.isArray(bv))
      return { ok: false, reason: 'buildingValves_shape' };
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(bv)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) return { ok: false, reason: 'buildingValves_shape' };
      out[k] = v;
    }
    value.buildingValves = out;
  }
  return { ok: true, value };
}
