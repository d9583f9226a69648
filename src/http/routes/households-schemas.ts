import { z } from 'zod';
import { CASE_STATES, CHANNELS, COMPLAINT_CLASSES } from '../../households/types.ts';
import { instant } from '../schema-primitives.ts';

/** Wire shapes of the households routes (docs/households.md). */
const unitAddress = {
  /** `building/floor-column`, e.g. `n01/6-1`; or the three fields below. */
  unit: z.string().trim().min(3).max(140).optional(),
  buildingId: z.string().min(1).max(128).optional(),
  floor: z.number().int().min(1).max(200).optional(),
  column: z.number().int().min(1).max(200).optional(),
};

export const complaintBody = z
  .object({
    ...unitAddress,
    channel: z.enum(CHANNELS),
    cls: z.enum(COMPLAINT_CLASSES),
    caller: z.string().trim().min(1).max(120),
    text: z.string().trim().min(1).max(4000),
    receivedTs: instant.optional(),
  })
  .strict();

export const measurementBody = z
  .object({
    ...unitAddress,
    taskId: z.string().min(1).max(64).optional(),
    ts: instant,
    rooms: z
      .array(
        z.object({ room: z.string().trim().min(1).max(40), tempC: z.number().min(-40).max(60) }).strict(),
      )
      .min(1)
      .max(20),
    /** docs/domain.md: two staff measure and both sign the record. */
    measuredBy: z.array(z.string().trim().min(1).max(80)).min(2).max(4),
    note: z.string().max(2000).optional(),
  })
  .strict();

export const caseListQuery = z
  .object({
    state: z.string().max(200).optional(),
    substation: z.string().max(128).optional(),
    overdue: z.enum(['1', 'true', '0', 'false']).optional(),
    closed: z.enum(['1', 'true', '0', 'false']).optional(),
  })
  .strict();

export const workOrderBody = z
  .object({ type: z.string().trim().min(1).max(40), summary: z.string().trim().min(1).max(500) })
  .strict();

export const fieldStatusBody = z
  .object({
    status: z.enum(['accepted', 'on_site', 'done']),
    note: z.string().trim().min(1).max(10_000).optional(),
    /** A reference to the proof photo the app uploaded (URL or object key), not the photo. */
    photoRef: z.string().trim().min(1).max(500).optional(),
  })
  .strict();

export const callbackBody = z
  .object({ result: z.string().trim().min(1).max(2000), satisfied: z.boolean() })
  .strict();

export const fromToQuery = z.object({ from: instant.optional(), to: instant.optional() }).strict();

const caseSchema = z
  .object({
    id: z.string(),
    unitKey: z.string(),
    buildingId: z.string(),
    substationId: z.string(),
    floor: z.number(),
    column: z.number(),
    sensorId: z.string().optional(),
    state: z.enum(CASE_STATES),
    origin: z.string(),
    owner: z.string(),
    openedTs: z.number(),
    updatedTs: z.number(),
    dueTs: z.number(),
    closedTs: z.number().optional(),
    escalationLevel: z.number(),
    watchUntilTs: z.number().optional(),
    complaints: z.number(),
    callbackPending: z.boolean(),
    ticketIds: z.array(z.string()),
    lastTempC: z.number().optional(),
  })
  .loose();

export const caseRowSchema = caseSchema.extend({
  ageH: z.number(),
  overdue: z.boolean(),
  pendingTaskDueTs: z.number().optional(),
});

/** Records the routes pass through as stored (their fields are documented in docs/households.md). */
export const record = z.record(z.string(), z.unknown());

/** The fields of each stored record a client may rely on; the rest passes through (`loose`). */
const caseEventSchema = z
  .object({
    ts: z.number(),
    actor: z.string(),
    kind: z.string(),
    fromState: z.enum(CASE_STATES).optional(),
    toState: z.enum(CASE_STATES).optional(),
    note: z.string().optional(),
  })
  .loose();

const caseComplaintSchema = z
  .object({
    id: z.string(),
    receivedTs: z.number(),
    channel: z.enum(CHANNELS),
    cls: z.enum(COMPLAINT_CLASSES),
    caller: z.string(),
    text: z.string(),
  })
  .loose();

const caseTaskSchema = z
  .object({ id: z.string(), state: z.string(), dueTs: z.number(), doneTs: z.number().optional() })
  .loose();

const caseMeasurementSchema = z
  .object({
    ts: z.number(),
    measuredBy: z.array(z.string()),
    rooms: z.array(z.object({ room: z.string(), tempC: z.number() })),
    tempC: z.number(),
    sensorTempC: z.number().optional(),
  })
  .loose();

const caseWorkOrderSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    state: z.string(),
    onSiteDueTs: z.number(),
    late: z.boolean(),
    note: z.string().optional(),
    photoRef: z.string().optional(),
  })
  .loose();

export const caseDetailSchema = z.object({
  case: caseSchema,
  events: z.array(caseEventSchema),
  complaints: z.array(caseComplaintSchema),
  tasks: z.array(caseTaskSchema),
  measurements: z.array(caseMeasurementSchema),
  workOrders: z.array(caseWorkOrderSchema),
  sensorTempC: z.number().optional(),
  sensorBias: z.object({ sensorId: z.string(), biasC: z.number(), measurements: z.number() }).optional(),
});

/** A row of the supervision list, as the API sends it and the dashboard reads it. */
export type CaseRow = z.output<typeof caseRowSchema>;
/** One case with its history, complaints, tasks, measurements and work orders. */
export type CaseDetail = z.output<typeof caseDetailSchema>;
