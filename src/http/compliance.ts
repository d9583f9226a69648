import type { RegistryIndex } from '../core/registry.ts';
import { CATALOGUES, type Locale, type MessageKey } from '../i18n/index.ts';
import { addFigures, type UnitHoursSource, zeroFigures } from '../rules/compliance.ts';
import type { ColdUnitRow, CompliancePort, ComplianceReport, ComplianceRow } from './ports.ts';

/**
 * The compliance page's figures (docs/domain.md "The 18 °C requirement"): the rules' unit-hours
 * (`src/rules/compliance.ts`, the one source the daily bulletin reads too) summed per building, and
 * the coldest units. A unit-hour is in band within [lowC, highC], below it under lowC, above it over
 * highC; the three shares add up to one.
 */
export class UnitHoursCompliance implements CompliancePort {
  constructor(
    private readonly source: UnitHoursSource,
    private readonly registry: () => RegistryIndex,
    private readonly coldestUnits = 20,
  ) {}

  async report(fromMs: number, toMs: number): Promise<ComplianceReport> {
    const reg = this.registry();
    const figures = await this.source.unitHours(fromMs, toMs);
    const { lowC, highC } = this.source.band();
    const buildings: ComplianceRow[] = [];
    const units: ColdUnitRow[] = [];
    for (const [buildingId, infos] of reg.sensorsByBuilding) {
      const b = reg.buildings.get(buildingId)!;
      const total = zeroFigures();
      for (const info of infos) {
        const f = figures.get(info.sensor.id);
        if (!f || f.hours <= 0) continue;
        addFigures(total, f);
        units.push({
          sensorId: info.sensor.id,
          buildingId,
          floor: info.sensor.floor,
          column: info.sensor.column,
          classes: info.classes,
          meanC: f.tempHours / f.hours,
          belowShare: (f.hours - f.inBandHours) / f.hours,
        });
      }
      const h = total.hours;
      buildings.push({
        buildingId,
        name: b.name,
        substationId: b.substationId,
        unitHours: h,
        inBandShare: h ? (total.inBandHours - total.aboveBandHours) / h : 0,
        belowShare: h ? (h - total.inBandHours) / h : 0,
        aboveShare: h ? total.aboveBandHours / h : 0,
        meanC: h ? total.tempHours / h : undefined,
      });
    }
    units.sort((a, b) => a.meanC - b.meanC);
    return {
      fromMs,
      toMs,
      bandLowC: lowC,
      bandHighC: highC,
      buildings,
      coldestUnits: units.slice(0, this.coldestUnits),
    };
  }
}

const csvCell = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : String(v);
  // Quote always; a leading = + - @ is prefixed so a spreadsheet does not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s) ? `'${s}` : s;
  return `"${safe.replaceAll('"', '""')}"`;
};

/** Stable machine headers (scripts read these) and, for people, the catalogue's words for them. */
const CSV_COLUMNS: ReadonlyArray<readonly [string, MessageKey]> = [
  ['building', 'col.building'],
  ['name', 'col.name'],
  ['substation', 'col.substation'],
  ['unit_hours', 'col.unitHours'],
  ['in_band_share', 'col.inBandShare'],
  ['below_share', 'col.belowShare'],
  ['above_share', 'col.aboveShare'],
  ['mean_c', 'col.meanC'],
];

/** The compliance table as CSV; with a locale the header row is in that language for people. */
export function complianceCsv(r: ComplianceReport, locale?: Locale): string {
  const words = locale ? CATALOGUES[locale] : undefined;
  // Machine headers stay bare as they always were; words for people are quoted like every value.
  const lines = [CSV_COLUMNS.map(([machine, key]) => (words ? csvCell(words[key]) : machine)).join(',')];
  for (const b of r.buildings)
    lines.push(
      [
        b.buildingId,
        b.name,
        b.substationId,
        b.unitHours,
        b.inBandShare.toFixed(4),
        b.belowShare.toFixed(4),
        b.aboveShare.toFixed(4),
        b.meanC?.toFixed(2),
      ]
        .map(csvCell)
        .join(','),
    );
  return `${lines.join('\r\n')}\r\n`;
}
