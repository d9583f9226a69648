import type { RoomReading, SubstationReading } from '../core/readings.ts';
import { POSITION_CLASSES } from '../core/registry.ts';

/**
 * The InfluxDB schema of heatwatch (docs/influx-schema.md), as line protocol. One function per
 * measurement, used by the writer and by the tests that seed an InfluxDB 1.x through `/write`, so both
 * paths produce byte-identical lines.
 *
 * Timestamps are epoch milliseconds: writes use `precision=ms`. The same tags and timestamp written
 * again overwrite the point's fields (InfluxDB semantics), so a spool replay never doubles a reading.
 */
export const ROOM_MEASUREMENT = 'room';
export const SUBSTATION_MEASUREMENT = 'substation';

/** Tag key of each position-class flag; the value is `true` or `false` on every room point. */
export const classTag = (c: string): string => `class_${c}`;

// Line protocol escaping: measurement names escape comma and space; tag keys, tag values and field
// keys also escape `=`. A backslash is kept as it is (InfluxDB reads `\\` in a tag as two characters);
// a value ending in one cannot be written, which registry ids (letters, digits, _ and -) never do.
const escMeasurement = (s: string): string => s.replace(/[, ]/g, (m) => `\\${m}`);
const escKey = (s: string): string => s.replace(/[,= ]/g, (m) => `\\${m}`);

type Field = [key: string, value: number | undefined, kind: 'float' | 'int'];

function line(measurement: string, tags: Array<[string, string]>, fields: Field[], tsMs: number): string {
  // Tags sorted by key: InfluxDB's recommended order, and a stable line for the same point.
  tags.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let out = escMeasurement(measurement);
  // An empty tag value is not allowed in line protocol; such a tag is left out.
  for (const [k, v] of tags) if (v !== '') out += `,${escKey(k)}=${escKey(v)}`;
  const parts: string[] = [];
  for (const [k, v, kind] of fields) {
    if (v === undefined || !Number.isFinite(v)) continue;
    parts.push(kind === 'int' ? `${escKey(k)}=${Math.trunc(v)}i` : `${escKey(k)}=${formatFloat(v)}`);
  }
  return `${out} ${parts.join(',')} ${Math.round(tsMs)}`;
}

/** Floats without exponent notation, which some line-protocol parsers refuse. */
const formatFloat = (v: number): string => {
  const s = String(v);
  return /e/i.test(s) ? v.toFixed(12).replace(/\.?0+$/, '') : s;
};

export function roomLine(r: RoomReading): string {
  const tags: Array<[string, string]> = [
    ['sensor', r.sensorId],
    ['building', r.buildingId],
    ['substation', r.substationId],
    ['source', r.source],
  ];
  for (const c of POSITION_CLASSES) tags.push([classTag(c), r.classes.includes(c) ? 'true' : 'false']);
  return line(
    ROOM_MEASUREMENT,
    tags,
    [
      ['temp_c', r.tempC, 'float'],
      ['humidity_pct', r.humidityPct, 'float'],
      ['battery_v', r.batteryV, 'float'],
      ['seq', r.seq, 'int'],
      ['floor', r.floor, 'int'],
      ['column', r.column, 'int'],
    ],
    r.ts,
  );
}

export function substationLine(r: SubstationReading): string {
  return line(
    SUBSTATION_MEASUREMENT,
    [['substation', r.substationId]],
    [
      ['supply_temp_c', r.supplyTempC, 'float'],
      ['return_temp_c', r.returnTempC, 'float'],
      ['flow_m3h', r.flowM3h, 'float'],
      ['heat_kw', r.heatKw, 'float'],
      ['valve_pct', r.valvePct, 'float'],
      ['outdoor_temp_c', r.outdoorTempC, 'float'],
      ['supply_offset_c', r.supplyOffsetC, 'float'],
    ],
    r.ts,
  );
}
