/**
 * `npm run bench -- twin --vary [--seeds 1,2,3] [--seed-shift 3] [--spread 0.2] [--days N]`: issue
 * #11's "change the seed and the ranges: the verdict must not flip". Each shipped scenario runs with
 * each seed as shipped (base) and again with the seed moved by `--seed-shift` and its physics ranges
 * scaled by ±`--spread` (firmware-sim/twin/vary.ts, drawn from the variant seed); every goal is
 * judged on both and a verdict that differs is a flip. Written into its own section of
 * BENCHMARKS.md (between the twin-vary markers); the main twin section is left as it is.
 * `--scenario NAME[,NAME]` runs only those; `--merge a.json,b.json` writes the pairs of earlier runs
 * (bench/results/twin.json of each) beside this run's, so the scenarios can run in parallel.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadRules } from '../../firmware-sim/twin/run.ts';
import { loadScenario } from '../../firmware-sim/twin/scenario.ts';
import { factorsText, varyScenario } from '../../firmware-sim/twin/vary.ts';
import { judge, runStrategies, SCENARIO_DIR, scenarioFiles, type Verdict } from './twin.ts';

const BEGIN = '<!-- twin-vary:begin (written by npm run bench -- twin --vary) -->';
const END = '<!-- twin-vary:end -->';

export interface VaryOptions {
  seeds: number[];
  seedShift: number;
  spread: number;
  days?: number;
  /** Only these scenarios (file names without .yaml); all when empty. */
  only?: string[];
  /** Earlier runs' figures (bench/results/twin.json) to write beside this run's: a run split by scenario. */
  merge?: Array<Pick<TwinVaryFigures, 'pairs' | 'maxCpuS'>>;
}

export interface VaryPair {
  scenario: string;
  seed: number;
  variantSeed: number;
  factors: Record<string, number>;
  base: Verdict;
  variant: Verdict;
  /** Goals whose verdict (met / missed) differs between base and variant. */
  flips: string[];
}

export interface TwinVaryFigures {
  options: VaryOptions;
  pairs: VaryPair[];
  maxCpuS: number;
}

export async function runTwinVary(opts: VaryOptions): Promise<TwinVaryFigures> {
  const rules = loadRules();
  const pairs: VaryPair[] = [];
  let maxCpuMs = 0;
  for (const f of scenarioFiles()) {
    const name = basename(f, '.yaml');
    if (opts.only?.length && !opts.only.includes(name)) continue;
    const sc = loadScenario(join(SCENARIO_DIR, f));
    for (const seed of opts.seeds) {
      const variantSeed = seed + opts.seedShift;
      const v = varyScenario(sc, variantSeed, opts.spread);
      const baseRows = await runStrategies(sc, name, seed, rules, opts.days);
      const varRows = await runStrategies(v.scenario, name, variantSeed, rules, opts.days);
      for (const r of [...baseRows, ...varRows]) maxCpuMs = Math.max(maxCpuMs, r.cpuMs);
      const base = judge(baseRows, sc.overSupplied);
      const variant = judge(varRows, sc.overSupplied);
      const flips = base.checks.filter((c, k) => c.met !== variant.checks[k]?.met).map((c) => c.goal);
      pairs.push({ scenario: name, seed, variantSeed, factors: v.factors, base, variant, flips });
    }
  }
  const merged = [...(opts.merge ?? []).flatMap((m) => m.pairs), ...pairs].sort(
    (a, b) => a.scenario.localeCompare(b.scenario) || a.seed - b.seed,
  );
  for (const m of opts.merge ?? []) maxCpuMs = Math.max(maxCpuMs, m.maxCpuS * 1000);
  const figures = { options: { ...opts, merge: undefined }, pairs: merged, maxCpuS: maxCpuMs / 1000 };
  writeVarySection(figures);
  return figures;
}

const mark = (met: boolean) => (met ? '✔' : '✘');

export function varyLines(f: TwinVaryFigures): string[] {
  const goals = f.pairs[0]?.base.checks.map((c) => c.goal) ?? [];
  const o = f.options;
  const flipsOf = (k: number) => f.pairs.filter((p) => p.flips.includes(goals[k]!)).length;
  const total = f.pairs.reduce((a, p) => a + p.flips.length, 0);
  return [
    `Run ${new Date().toISOString().slice(0, 16)} UTC: ${f.pairs.length} scenario × seed pairs, base seeds ${o.seeds.join(', ')} against variant seeds ${o.seeds.map((s) => s + o.seedShift).join(', ')} with the ranges scaled by ±${Math.round(o.spread * 100)} %${o.days ? `, ${o.days} days` : ', full periods'}; ${total} of ${f.pairs.length * goals.length} verdicts flip. Longest single run ${f.maxCpuS.toFixed(1)} s CPU.`,
    '',
    'Per goal, base → variant (✔ met, ✘ missed; **bold** where the verdict flips):',
    '',
    `| scenario | seed → variant | ${goals.join(' | ')} |`,
    `|---|---|${goals.map(() => '---').join('|')}|`,
    ...f.pairs.map((p) => {
      const cells = p.base.checks.map((c, k) => {
        const v = p.variant.checks[k]!;
        const text = `${mark(c.met)} ${c.detail} → ${mark(v.met)} ${v.detail}`;
        return c.met !== v.met ? `**${text}**` : text;
      });
      return `| ${p.scenario} | ${p.seed} → ${p.variantSeed} | ${cells.join(' | ')} |`;
    }),
    '',
    `Flips per goal (of ${f.pairs.length}): ${goals.map((g, k) => `${g}: ${flipsOf(k)}`).join('; ')}.`,
    '',
    'Range factors of each variant:',
    '',
    ...f.pairs
      .filter((p, i, all) => all.findIndex((q) => q.variantSeed === p.variantSeed) === i)
      .map((p) => `- variant seed ${p.variantSeed}: ${factorsText(p.factors)}`),
  ];
}

function writeVarySection(f: TwinVaryFigures): void {
  const section = [BEGIN, '', ...varyLines(f), '', END].join('\n');
  const text = readFileSync('BENCHMARKS.md', 'utf8');
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + section + text.slice(j + END.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync('BENCHMARKS.md', next);
}

export function formatTwinVary(f: TwinVaryFigures): string {
  const total = f.pairs.reduce((a, p) => a + p.flips.length, 0);
  const n = f.pairs.length * (f.pairs[0]?.base.checks.length ?? 0);
  return `twin --vary: ${f.pairs.length} scenario × seed pairs, ${total} of ${n} verdicts flip between base and variant; table written into BENCHMARKS.md`;
}
