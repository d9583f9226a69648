/**
 * Scenario variants (issue #11: "change the seed and the ranges: the verdict must not flip"). A
 * variant scales the physics ranges a heating engineer is least sure of — envelope time constants,
 * heat losses of exposed units and of middle units, curve errors, transport delay, internal gains —
 * each by its own factor in [1 − spread, 1 + spread], drawn deterministically from a variant seed.
 * The variant keeps the scenario's kind (the same shares of curves too high and too low, the same
 * weather script); only the quantities move.
 */
import { hash01 } from '../random.ts';
import { type TwinScenario, twinScenarioSchema } from './scenario.ts';

type Range = [number, number];

/** The ranges a variant scales: section, key (each a `[low, high]` range of the scenario schema). */
export const VARIED_RANGES: ReadonlyArray<readonly ['network' | 'buildings', string]> = [
  ['buildings', 'timeConstantH'],
  ['buildings', 'uaMiddleWPerK'],
  ['buildings', 'topExtra'],
  ['buildings', 'groundExtra'],
  ['buildings', 'gableExtra'],
  ['buildings', 'internalGainsW'],
  ['network', 'tooHighC'],
  ['network', 'tooLowC'],
  ['network', 'transportDelayH'],
];

export interface ScenarioVariant {
  scenario: TwinScenario;
  /** Factor applied to each varied range, by `section.key`. */
  factors: Record<string, number>;
}

/**
 * The scenario with each varied range scaled by a factor drawn from `variantSeed`; validated again
 * (a scaled range that leaves the schema's bounds is refused, not clamped silently).
 */
export function varyScenario(sc: TwinScenario, variantSeed: number, spread: number): ScenarioVariant {
  if (!(spread >= 0 && spread < 1)) throw new Error(`vary: spread must be in [0, 1), got ${spread}`);
  const next = structuredClone(sc);
  const factors: Record<string, number> = {};
  for (const [section, key] of VARIED_RANGES) {
    const f = 1 - spread + 2 * spread * hash01(variantSeed, 'vary', section, key);
    const obj = next[section] as unknown as Record<string, Range>;
    const r = obj[key]!;
    obj[key] = [r[0] * f, r[1] * f];
    factors[`${section}.${key}`] = f;
  }
  const parsed = twinScenarioSchema.safeParse(next);
  if (!parsed.success)
    throw new Error(
      `vary: variant ${variantSeed} leaves the scenario schema: ${parsed.error.issues
        .map((i) => `${i.path.join('.')}: ${i.message}`)
        .join('; ')}`,
    );
  return { scenario: parsed.data, factors };
}

/** Factors as one short line for a table cell: `timeConstantH ×1.12, topExtra ×0.85, …`. */
export function factorsText(factors: Record<string, number>): string {
  return Object.entries(factors)
    .map(([k, f]) => `${k.split('.')[1]} ×${f.toFixed(2)}`)
    .join(', ');
}
