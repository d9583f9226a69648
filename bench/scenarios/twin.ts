/**
 * `npm run bench -- twin`: every shipped twin scenario (firmware-sim/scenarios/*.yaml) with several
 * seeds and every strategy, judged against issue #11's goals, written into BENCHMARKS.md between the
 * twin markers (the rest of the file is left as it is).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TABLE_HEAD, TABLE_RULE, tableRow } from '../../firmware-sim/twin/report.ts';
import { loadRules, runTwin, type TwinResult } from '../../firmware-sim/twin/run.ts';
import { loadScenario, type TwinScenario } from '../../firmware-sim/twin/scenario.ts';
import { STRATEGIES } from '../../firmware-sim/twin/strategies.ts';
import type { RulesConfig } from '../../src/config/rules-schema.ts';

export const SCENARIO_DIR = 'firmware-sim/scenarios';
const BEGIN = '<!-- twin:begin (written by npm run bench -- twin) -->';
const END = '<!-- twin:end -->';
const PREVIOUS = '#### The run before';

/** Issue #11's goals, as figures. */
const GOALS = {
  minShareAtOrAbove18: 0.99,
  maxDegreeHoursShareOfWatching: 0.1,
  maxShareAbove24: 0.01,
  /** Heat saved against watching on the over-supplied scenarios. */
  minSavingVsWatchingOverSupplied: 0.08,
  /** Heat saved against raise-all and coldest-flat at equal or better comfort. */
  minSavingVsHand: 0.05,
  /** "Equal comfort": unit-hours at or above 18 °C at most this far below, share. */
  comfortTolerance: 0.001,
};

export interface TwinBenchFigures {
  seeds: number[];
  days?: number;
  results: Array<Record<string, unknown>>;
  verdicts: Verdict[];
}

export interface Verdict {
  scenario: string;
  seed: number;
  checks: Array<{ goal: string; met: boolean; detail: string }>;
}

export async function runTwinBench(opts: { seeds: number[]; days?: number }): Promise<TwinBenchFigures> {
  // Read once: every run of the bench judges the same rules, even if the file changes meanwhile.
  const rules = loadRules();
  const all: TwinResult[] = [];
  const verdicts: Verdict[] = [];
  for (const f of scenarioFiles()) {
    const sc = loadScenario(join(SCENARIO_DIR, f));
    for (const seed of opts.seeds) {
      const rows = await runStrategies(sc, basename(f, '.yaml'), seed, rules, opts.days);
      all.push(...rows);
      verdicts.push(judge(rows, sc.overSupplied));
    }
  }
  writeSection(all, verdicts, opts);
  return {
    seeds: opts.seeds,
    days: opts.days,
    results: all.map((r) => ({ ...r })),
    verdicts,
  };
}

/** The shipped scenario files, in name order. */
export function scenarioFiles(): string[] {
  return readdirSync(SCENARIO_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
}

/** Every strategy on one scenario and seed (the same drawn estate, weather and noise). */
export async function runStrategies(
  sc: TwinScenario,
  scenarioName: string,
  seed: number,
  rules: RulesConfig,
  days: number | undefined,
): Promise<TwinResult[]> {
  const rows: TwinResult[] = [];
  for (const strategy of STRATEGIES) {
    const r = await runTwin(sc, { scenarioName, seed, days, strategy, rules });
    process.stderr.write(`  twin ${r.scenario} seed ${seed} ${strategy}: ${r.cpuMs} ms CPU\n`);
    rows.push(r);
  }
  return rows;
}

export function judge(rows: TwinResult[], overSupplied: boolean): Verdict {
  const by = (s: string) => rows.find((r) => r.strategy === s)!;
  const a = by('acting');
  const w = by('watching');
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const saving = (other: TwinResult) => 1 - a.heatMWh / other.heatMWh;
  const lessOrMore = (x: number) => (x >= 0 ? `${pct(x)} less` : `${pct(-x)} more`);
  const checks: Verdict['checks'] = [
    {
      goal: '≥ 99 % of unit-hours at or above 18 °C',
      met: a.shareAtOrAbove18 >= GOALS.minShareAtOrAbove18,
      detail: pct(a.shareAtOrAbove18),
    },
    {
      goal: 'degree-hours below 18 °C ≤ 10 % of watching',
      met: a.degreeHoursBelow18 <= GOALS.maxDegreeHoursShareOfWatching * w.degreeHoursBelow18,
      detail: `${a.degreeHoursBelow18.toFixed(0)} vs ${w.degreeHoursBelow18.toFixed(0)}`,
    },
    {
      goal: 'unit-hours above 24 °C ≤ 1 %',
      met: a.shareAbove24 <= GOALS.maxShareAbove24,
      detail: pct(a.shareAbove24),
    },
    {
      goal: 'heat vs watching: ≥ 8 % less where over-supplied (*), no more elsewhere',
      met: overSupplied ? saving(w) >= GOALS.minSavingVsWatchingOverSupplied : a.heatMWh <= w.heatMWh,
      detail: `${lessOrMore(saving(w))}${overSupplied ? ' (*)' : ''}`,
    },
  ];
  for (const name of ['raise-all', 'coldest-flat']) {
    const o = by(name);
    const comfortOk = a.shareAtOrAbove18 >= o.shareAtOrAbove18 - GOALS.comfortTolerance;
    checks.push({
      goal: `heat ≥ 5 % less than ${name} at equal or better comfort`,
      met: comfortOk && saving(o) >= GOALS.minSavingVsHand,
      detail: `${lessOrMore(saving(o))}, comfort ${pct(a.shareAtOrAbove18)} vs ${pct(o.shareAtOrAbove18)}`,
    });
  }
  return { scenario: a.scenario, seed: a.seed, checks };
}

export function writeSection(
  all: TwinResult[],
  verdicts: Verdict[],
  opts: { seeds: number[]; days?: number },
): void {
  const goalNames = verdicts[0]?.checks.map((c) => c.goal) ?? [];
  const met = verdicts.flatMap((v) => v.checks).filter((c) => c.met).length;
  const total = verdicts.flatMap((v) => v.checks).length;
  const maxCpuS = Math.max(...all.map((r) => r.cpuMs)) / 1000;
  const lines = [
    BEGIN,
    '',
    `Run ${new Date().toISOString().slice(0, 16)} UTC: ${verdicts.length} scenario × seed pairs (seeds ${opts.seeds.join(', ')}${opts.days ? `, ${opts.days} days` : ', full periods'}), every strategy; goals met ${met} of ${total}. Longest single run ${maxCpuS.toFixed(1)} s CPU.`,
    '',
    TABLE_HEAD,
    TABLE_RULE,
    ...all.map(tableRow),
    '',
    'Goals of issue #11 for `acting`, per scenario and seed (✔ met, ✘ missed):',
    '',
    `| scenario | seed | ${goalNames.join(' | ')} |`,
    `|---|---|${goalNames.map(() => '---').join('|')}|`,
    ...verdicts.map(
      (v) =>
        `| ${v.scenario} | ${v.seed} | ${v.checks.map((c) => `${c.met ? '✔' : '✘'} ${c.detail}`).join(' | ')} |`,
    ),
    '',
    `Per goal, met in how many of the ${verdicts.length} scenario × seed pairs: ${goalNames
      .map((g, k) => `${g}: ${verdicts.filter((v) => v.checks[k]?.met).length}`)
      .join('; ')}. (*) over-supplied scenario.`,
    '',
    END,
  ];
  const text = readFileSync('BENCHMARKS.md', 'utf8');
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  // The run before stays beside the new one (engine changes are judged before/after), one deep.
  const before =
    i >= 0 && j > i
      ? text
          .slice(i + BEGIN.length, j)
          .split(PREVIOUS)[0]!
          .trim()
      : '';
  if (before) {
    lines.splice(lines.length - 1, 0, PREVIOUS, '', before.replace(/^Run /, 'Previous run '), '');
  }
  const section = lines.join('\n');
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + section + text.slice(j + END.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync('BENCHMARKS.md', next);
}

export function formatTwinBench(f: TwinBenchFigures): string {
  const met = f.verdicts.flatMap((v) => v.checks).filter((c) => c.met).length;
  const total = f.verdicts.flatMap((v) => v.checks).length;
  return `twin: ${f.verdicts.length} scenario × seed pairs, goals met ${met} of ${total}; table written into BENCHMARKS.md`;
}
