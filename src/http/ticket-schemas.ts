import { z } from 'zod';

/** The ticket queue's wire shapes (schemas.ts re-exports them; the dashboard imports the types). */

export const ticketActionSchema = z.enum(['approve', 'apply', 'reject', 'close']);

export const ticketSchema = z.object({
  id: z.string(),
  status: z.string(),
  problem: z.string(),
  targetKind: z.enum(['substation', 'building', 'unit']),
  targetId: z.string(),
  substationId: z.string(),
  buildingId: z.string().optional(),
  summary: z.string(),
  evidence: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      value: z.string(),
      num: z.number().optional(),
      unit: z.enum(['C', 'pct', 'h', 'share']).optional(),
    }),
  ),
  proposal: z.object({
    kind: z.enum(['supply-offset', 'slope', 'valves', 'preheat', 'field']),
    params: z.record(z.string(), z.union([z.string(), z.number()])),
    description: z.string(),
    supplyOffsetC: z.number().optional(),
    valvePct: z.number().optional(),
    supplyTempC: z.number().optional(),
  }),
  predictedEffect: z.string(),
  prediction: z.object({ deltaC: z.number(), afterH: z.number() }).optional(),
  createdTs: z.number(),
  updatedTs: z.number(),
  recheckDueTs: z.number().optional(),
  actions: z.array(ticketActionSchema),
  setpoint: z
    .object({
      commandId: z.string(),
      delivery: z.enum(['pending', 'published']),
      attempts: z.number(),
      lastError: z.string().optional(),
      publishedTs: z.number().optional(),
      sent: z.object({
        supplyOffsetC: z.number(),
        slopeDelta: z.number().optional(),
        buildingValves: z.record(z.string(), z.number()).optional(),
      }),
      reported: z
        .object({ supplyOffsetC: z.number().optional(), setpointId: z.string().optional(), ts: z.number() })
        .optional(),
      confirmation: z.enum(['awaiting', 'confirmed', 'not-confirmed', 'superseded']),
      confirmedAfterS: z.number().optional(),
      text: z.string(),
    })
    .optional(),
  events: z.array(
    z.object({
      ts: z.number(),
      actor: z.string(),
      kind: z.string(),
      fromStatus: z.string().optional(),
      toStatus: z.string().optional(),
      note: z.string().optional(),
    }),
  ),
});

export const ticketListQuery = z
  .object({
    status: z
      .string()
      .regex(/^[a-z_]{1,32}(,[a-z_]{1,32})*$/, 'expected status[,status…]')
      .optional(),
  })
  .strict();

export const ticketActionParams = z.object({ id: z.string().min(1).max(128), action: ticketActionSchema });
export const ticketActionBody = z
  .object({ note: z.string().max(2000).optional() })
  .strict()
  .optional();

/** A ticket as the API shows it, and as the dashboard reads it. */
export type TicketView = z.output<typeof ticketSchema>;
