import { z } from 'zod';

/**
 * config/rules.yaml: the thresholds engineers tune. The rules helper in src/rules reads only this.
 * (Filled in by the rules engine work; every key has a default so an empty file is valid.)
 */
export const rulesSchema = z
  .object({
    /** Required room temperature (GB/T 33833 / northern-China practice: 18 °C). */
    requiredTempC: z.number().min(10).max(25).default(18),
    /** Measurement tolerance below the line before a unit counts as cold. */
    toleranceC: z.number().min(0).max(3).default(0.5),
    tick: z
      .object({ intervalS: z.number().int().min(10).max(3600).default(300) })
      .strict()
      .prefault({}),
  })
  .strict();

export type RulesConfig = z.infer<typeof rulesSchema>;
