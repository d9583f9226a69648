import type { RegistryIndex } from '../core/registry.ts';
import { CATALOGUES, type Locale, type MessageKey } from '../i18n/index.ts';
import type { ColdUnitRow, CompliancePort, ComplianceReport, ComplianceRow, HistoryPort } from './ports.ts';

const HOUR_MS = 3_600_000;

/**
 * Compliance from the reading store: every sensor's hourly means are unit-hours; a unit-hour is in
 * band when its mean lies within [bandLowC, bandHighC] (docs/domain.md: 18 °C or more, with a small
 * tolerance; far above wastes heat). Stands in until the rules module offers its own figures.
 */
export class HistoryCompliance implements CompliancePort {
  constructor(
    private readonly registry: () => RegistryIndex,
    private readonly history: HistoryPort,
    private readonly band: () => { lowC: number; highC: number },
    private readonly coldestUnits = 20,
  ) {}

  async report(fromMs: number, toMs: number): Promise<ComplianceReport> {
    const reg = this.registry();
    const { lowC, highC } = this.band();
    const buildings: ComplianceRow[] = [];
    const units: ColdUnitRow[] = [];
    for (const [buildingId, infos] of reg.sensorsByBuilding) {
      const b = reg.buildings.get(buildingId)!;
      let hours = 0;
      let inBand = 0;
      let below = 0;
      let above = 0;
      let sum = 0;
      for (const info of infos) {
        const pts = await this.history.roomHistory({
          fromMs,
          toMs,
          everyMs: HOUR_MS,
          sensorId: info.sensor.id,
        });
        if (pts.length === 0) continue;
        let uBelow = 0;
        let uSum = 0;
        for (const p of pts) {
          if (p.meanC < lowC) uBelow++;
          else if (p.meanC > highC) above++;
          else inBand++;
          uSum += p.meanC;
        }
        hours += pts.length;
        below += uBelow;
        sum += uSum;
        units.push({
          sensorId: info.sensor.id,
          buildingId,
          floor: info.sensor.floor,
          column: info.sensor.column,
          classes: info.classes,
          meanC: uSum / pts.length,
          belowShare: uBelow / pts.length,
        });
      }
      buildings.push({
        buildingId,
        name: b.name,
        substationId: b.substationId,
        unitHours: hours,
        inBandShare: hours ? inBand / hours : 0,
        belowShare: hours ? below / hours : 0,
        aboveShare: hours ? above / hours : 0,
        meanC: hours ? sum / hours : undefined,
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
