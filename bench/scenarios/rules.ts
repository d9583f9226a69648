/**
 * Scenario 5, rules scale: one rules tick over 1 000 / 10 000 / 50 000 synthetic buildings of 60 units (a sensor
 * sample per building, default 12),
 * each size in a fresh process (bench/procs/rules-tick.ts). The ratio is time per building at each
 * size against the smallest: linear growth keeps it near 1.
 */
import { benchChild, pad, ratio } from '../lib.ts';

export interface RulesRow {
  buildings: number;
  sensors: number;
  tickMs: number;
  perBuildingUs: number;
  perBuildingRatio: number;
  findings: number;
}

export async function runRules(opts: {
  sizes: number[];
  ticks: number;
  sensorsPerBuilding: number;
}): Promise<RulesRow[]> {
  const rows: RulesRow[] = [];
  for (const n of opts.sizes) {
    const r = await benchChild<Omit<RulesRow, 'perBuildingRatio'>>(
      'bench/procs/rules-tick.ts',
      [String(n), String(opts.ticks), String(opts.sensorsPerBuilding)],
      { timeoutMs: 240_000, nodeArgs: ['--max-old-space-size=12288'] },
    ).result;
    rows.push({ ...r, perBuildingRatio: ratio(r.perBuildingUs, rows[0]?.perBuildingUs ?? r.perBuildingUs) });
  }
  return rows;
}

export function formatRules(rows: RulesRow[]): string {
  const out = ['rules: one tick over synthetic live state, buildings of 60 units (10 × 6), median of ticks'];
  out.push('  buildings   sensors   tick ms   µs/building  ratio to smallest  findings');
  for (const r of rows)
    out.push(
      `  ${pad(r.buildings, 9)} ${pad(r.sensors, 9)} ${pad(r.tickMs, 9)} ${pad(r.perBuildingUs, 13)} ${pad(r.perBuildingRatio.toFixed(2), 18)} ${pad(r.findings, 9)}`,
    );
  return out.join('\n');
}
