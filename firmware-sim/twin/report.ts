/** Words and tables for twin results: the CLI's table and the BENCHMARKS.md section share them. */
import type { TwinResult } from './run.ts';

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export const TABLE_HEAD =
  '| scenario | seed | strategy | ≥ 18 °C | degree-h < 18 | > 22 °C | > 24 °C | heat MWh | tickets (problem: status n) | operator | re-checks res/esc/def |';
export const TABLE_RULE = '|---|---|---|---|---|---|---|---|---|---|---|';

export function ticketsText(r: TwinResult): string {
  const parts = Object.entries(r.byProblem).map(
    ([problem, statuses]) =>
      `${problem}: ${Object.entries(statuses)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ')}`,
  );
  return parts.length > 0 ? parts.join('; ') : '-';
}

export function tableRow(r: TwinResult): string {
  const rc = r.rechecks;
  return `| ${r.scenario} | ${r.seed} | ${r.strategy} | ${pct(r.shareAtOrAbove18)} | ${r.degreeHoursBelow18.toFixed(0)} | ${pct(r.shareAbove22)} | ${pct(r.shareAbove24)} | ${r.heatMWh.toFixed(1)} | ${ticketsText(r)} | ${r.operatorActions} | ${rc.resolved}/${rc.escalated}/${rc.deferred} |`;
}

/** The JSON object the CLI prints per strategy (issue #11's field names). */
export function jsonOf(r: TwinResult): Record<string, unknown> {
  return {
    scenario: r.scenario,
    seed: r.seed,
    days: r.days,
    strategy: r.strategy,
    shareAtOrAbove18: round4(r.shareAtOrAbove18),
    degreeHoursBelow18: Math.round(r.degreeHoursBelow18 * 10) / 10,
    shareAbove22: round4(r.shareAbove22),
    shareAbove24: round4(r.shareAbove24),
    heatMWh: Math.round(r.heatMWh * 100) / 100,
    tickets: r.byProblem,
    operatorActions: r.operatorActions,
    setpointsSent: r.setpoints.length,
    lowering: r.lowering,
    rechecks: r.rechecks,
    units: r.units,
    sensors: r.sensors,
    runtimeMs: r.runtimeMs,
    cpuMs: r.cpuMs,
  };
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
