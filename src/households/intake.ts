import type { HouseholdsConfig } from '../config/households-schema.ts';
import { HwError } from '../core/errors.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { Channel, ComplaintClass, UnitRef } from './types.ts';

const HOUR_MS = 3_600_000;
const bad = (field: string, message: string) =>
  new HwError('HW_ERR_BAD_REQUEST', 400, `${field}: ${message}`, field);

/** Where a household is: `unit` as `building/floor-column` or the three fields. */
export interface UnitAddress {
  unit?: string;
  buildingId?: string;
  floor?: number;
  column?: number;
}

/** Resolves an address to a unit of the registry; an unknown building or unit is a clear 400/404. */
export function resolveUnit(index: RegistryIndex, a: UnitAddress, where = 'body'): UnitRef {
  let { buildingId, floor, column } = a;
  if (a.unit !== undefined) {
    const m = /^([^/\s]+)\/(\d{1,3})-(\d{1,3})$/.exec(a.unit.trim());
    if (!m) throw bad(`${where}.unit`, "expected 'building/floor-column', e.g. 'n01/6-1'");
    [buildingId, floor, column] = [m[1], Number(m[2]), Number(m[3])];
  }
  if (buildingId === undefined || floor === undefined || column === undefined)
    throw bad(`${where}.unit`, 'give unit, or buildingId, floor and column');
  const b = index.buildings.get(buildingId);
  if (!b)
    throw new HwError(
      'HW_ERR_UNKNOWN_UNIT',
      404,
      `${where}.buildingId: no building '${buildingId}'`,
      `${where}.buildingId`,
    );
  if (floor < 1 || floor > b.floors || column < 1 || column > b.unitsPerFloor)
    throw new HwError(
      'HW_ERR_UNKNOWN_UNIT',
      404,
      `${where}.unit: building ${b.id} has floors 1-${b.floors} and units 1-${b.unitsPerFloor} per floor; no unit ${floor}-${column}`,
      `${where}.unit`,
    );
  const sensor = (index.sensorsByBuilding.get(b.id) ?? []).find(
    (i) => i.sensor.floor === floor && i.sensor.column === column,
  );
  return { buildingId: b.id, floor, column, substationId: b.substationId, sensorId: sensor?.sensor.id };
}

/** A person's name as staff lists compare it: trimmed, inner spaces collapsed, case folded. */
export const normaliseName = (s: string): string =>
  s.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase();

/** docs/domain.md: two staff measure; the same person typed twice is one person. */
export function twoNames(names: readonly string[]): [string, string, ...string[]] {
  const seen = new Map<string, string>();
  for (const n of names) {
    const key = normaliseName(n);
    if (key && !seen.has(key)) seen.set(key, n.trim().replace(/\s+/g, ' '));
  }
  const out = [...seen.values()];
  if (out.length < 2)
    throw bad('body.measuredBy', 'two different staff must measure and sign (in-home measurement practice)');
  return out as [string, string, ...string[]];
}

/** A record's time must be neither ahead of the clock nor older than the configured limit. */
export function checkTime(
  ts: number,
  now: number,
  cfg: HouseholdsConfig['measurements'],
  field: string,
): void {
  if (ts > now + cfg.futureToleranceMs) throw bad(field, 'lies in the future');
  if (ts < now - cfg.maxAgeH * HOUR_MS)
    throw bad(field, `older than ${cfg.maxAgeH} h; too old to count as evidence`);
}

export interface ComplaintInput extends UnitAddress {
  channel: Channel;
  cls: ComplaintClass;
  caller: string;
  text: string;
  receivedTs?: number;
}

export interface MeasurementInput extends UnitAddress {
  ts: number;
  rooms: Array<{ room: string; tempC: number }>;
  measuredBy: string[];
  taskId?: string;
  note?: string;
}
