import { z } from 'zod';

/** config/sim.yaml: the simulated network's scenario (seed, weather, faults). */
export const simSchema = z
  .object({
    seed: z.number().int().default(42),
  })
  .strict();

export type SimConfig = z.infer<typeof simSchema>;
