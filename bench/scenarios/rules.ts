/**
 * Scenario 5, rules scale: one rules tick over synthetic buildings of 60 units (a sensor sample per
 * building, default 12), each case in a fresh process (bench/procs/rules-tick.ts). Cases: every
 * sensor reporting before every tick (the worst case: every building is judged), and hourly sensors
 * whose building reports together (a twelfth of the buildings hear something before a tick), in the
 * engine's incremental evaluation and, for reference, in a full one. The ratio is time per building
 * against the smallest size of the same case: linear growth keeps it near 1.
 */
import { benchChild, pad, ratio } from '../lib.ts';

export interface RulesCase {
  buildings: number;
  /** 1 / every of the sensors report before a tick. */
  every: number;
  spread: 'sensors' | 'buildings';
  mode: 'incremental' | 'full';
}

export interface RulesRow extends RulesCase {
  sensors: number;
  tickMs: number;
  /** CPU time of the process over the tick (the machine is shared; wall time waits for a core). */
  tickCpuMs: number;
  perBuildingUs: number;
  perBuildingRatio: number;
  findings: number;
}

export const RULES_CASES = (sizes: number[]): RulesCase[] => [
  ...sizes.map((buildings) => ({
    buildings,
    every: 12,
    spread: 'buildings' as const,
    mode: 'incremental' as const,
  })),
  ...sizes.map((buildings) => ({
    buildings,
    every: 1,
    spread: 'sensors' as const,
    mode: 'incremental' as const,
  })),
  { buildings: sizes[1] ?? sizes[0]!, every: 12, spread: 'buildings', mode: 'full' },
];

export async function runRules(opts: {
  cases: RulesCase[];
  ticks: number;
  sensorsPerBuilding: number;
}): Promise<RulesRow[]> {
  const rows: RulesRow[] = [];
  for (const c of opts.cases) {
    const r = await benchChild<Omit<RulesRow, 'perBuildingRatio' | keyof RulesCase>>(
      'bench/procs/rules-tick.ts',
      [
        String(c.buildings),
        String(opts.ticks),
        String(opts.sensorsPerBuilding),
        String(c.every),
        c.mode,
        c.spread,
      ],
      { timeoutMs: 600_000, nodeArgs: ['--max-old-space-size=12288'] },
    ).result;
    const first = rows.find((x) => x.every === c.every && x.spread === c.spread && x.mode === c.mode);
    rows.push({
      ...c,
      ...r,
      perBuildingRatio: ratio(r.perBuildingUs, first?.perBuildingUs ?? r.perBuildingUs),
    });
  }
  return rows;
}

export function formatRules(rows: RulesRow[]): string {
  const out = ['rules: one tick over synthetic live state, buildings of 60 units (10 × 6), median of ticks'];
  out.push(
    '  buildings   sensors  reports            mode          tick ms   CPU ms   µs/building  ratio  findings',
  );
  for (const r of rows)
    out.push(
      `  ${pad(r.buildings, 9)} ${pad(r.sensors, 9)}  ${`1/${r.every} by ${r.spread}`.padEnd(17)}  ${r.mode.padEnd(12)} ${pad(r.tickMs, 9)} ${pad(r.tickCpuMs, 8)} ${pad(r.perBuildingUs, 13)} ${pad(r.perBuildingRatio.toFixed(2), 6)} ${pad(r.findings, 9)}`,
    );
  return out.join('\n');
}
