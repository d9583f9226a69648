import { z } from 'zod';
import { Errors } from '../../core/errors.ts';
import type { HouseholdsPort } from '../../households/http-port.ts';
import { type CaseState, OPEN_CASE_STATES } from '../../households/types.ts';
import { defineRoute, type RouteDef } from '../route-table.ts';
import { idParams } from '../schemas.ts';
import type { RouteDeps } from './context.ts';
import {
  callbackBody,
  caseDetailSchema,
  caseListQuery,
  caseRowSchema,
  complaintBody,
  fieldStatusBody,
  fromToQuery,
  measurementBody,
  record,
  workOrderBody,
} from './households-schemas.ts';

const yes = (v: string | undefined) => v === '1' || v === 'true';
const HOUR_MS = 3_600_000;

/**
 * The dispatcher's routes (docs/households.md): operators take complaints, record measurements and
 * call households back; viewers read; the crew's app (role `field`) only answers its work orders.
 */
export function householdRoutes(deps: RouteDeps & { households: HouseholdsPort }): RouteDef[] {
  const hh = deps.households;
  const now = () => deps.clock.now();
  return [
    defineRoute({
      method: 'GET',
      url: '/api/households/cases',
      access: 'viewer',
      tag: 'households',
      summary:
        'The supervision list: open cases (or all with closed=1), filtered by state, substation, overdue.',
      query: caseListQuery,
      response: z.object({ cases: z.array(caseRowSchema), now: z.number() }),
      handler: async ({ query }) => {
        const states = query.state
          ? (query.state.split(',') as CaseState[])
          : yes(query.closed)
            ? undefined
            : OPEN_CASE_STATES;
        const t = now();
        const pending = new Map<string, number>();
        for (const task of await hh.store.tasks({ states: ['pending', 'overdue'] }))
          pending.set(task.caseId, task.dueTs);
        const cases = (await hh.store.listCases({ states }))
          .filter((k) => !query.substation || k.substationId === query.substation)
          .map((k) => ({
            ...k,
            ageH: Math.round(((k.closedTs ?? t) - k.openedTs) / (HOUR_MS / 10)) / 10,
            overdue: k.state !== 'closed' && k.state !== 'watching' && t > k.dueTs,
            pendingTaskDueTs: pending.get(k.id),
          }))
          .filter((k) => !yes(query.overdue) || k.overdue || (k.pendingTaskDueTs ?? Infinity) < t);
        return { cases, now: t };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/cases/:id',
      access: 'viewer',
      tag: 'households',
      summary:
        'One case with its history, complaints, tasks, measurements beside the sensor, and work orders.',
      params: idParams,
      response: caseDetailSchema,
      handler: ({ params }) =>
        hh.service.caseDetail(params.id) as unknown as Promise<z.infer<typeof caseDetailSchema>>,
    }),
    defineRoute({
      method: 'POST',
      url: '/api/households/complaints',
      access: 'operator',
      tag: 'households',
      summary:
        'Take a complaint; a temperature complaint opens or joins the unit’s case and a 24 h measurement task.',
      body: complaintBody,
      response: z.object({ complaint: record, case: record.optional(), task: record.optional() }),
      audit: 'household.complaint',
      handler: async ({ body, principal }) =>
        (await hh.service.fileComplaint(body, principal!.name)) as unknown as Record<
          string,
          Record<string, unknown>
        >,
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/complaints',
      access: 'viewer',
      tag: 'households',
      summary: 'Complaints received between from and to (default: the last 24 h).',
      query: fromToQuery,
      response: z.object({ complaints: z.array(record) }),
      handler: async ({ query }) => ({
        complaints: (await hh.store.complaints({
          fromTs: query.from ?? now() - 24 * HOUR_MS,
          toTs: query.to ?? now() + 1,
        })) as unknown as Array<Record<string, unknown>>,
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/households/complaints/:id/close',
      access: 'operator',
      tag: 'households',
      summary:
        'Close a complaint of another class once it is handled (temperature complaints close with their case).',
      params: idParams,
      response: record,
      audit: 'household.complaint.close',
      handler: async ({ params, principal }) =>
        (await hh.service.closeComplaint(params.id, principal!.name)) as unknown as Record<string, unknown>,
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/tasks',
      access: 'viewer',
      tag: 'households',
      summary: 'Measurement tasks that are pending or overdue, soonest due first.',
      response: z.object({ tasks: z.array(record), now: z.number() }),
      handler: async () => ({
        tasks: (await hh.store.tasks({ states: ['pending', 'overdue'] })) as unknown as Array<
          Record<string, unknown>
        >,
        now: now(),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/households/measurements',
      access: 'operator',
      tag: 'households',
      summary: 'Record a two-person in-home measurement, room by room; it closes or escalates the task.',
      body: measurementBody,
      response: z.object({ measurement: record, case: record.optional(), task: record.optional() }),
      audit: 'household.measurement',
      handler: async ({ body, principal }) =>
        (await hh.service.recordMeasurement(body, principal!.name)) as unknown as Record<
          string,
          Record<string, unknown>
        >,
    }),
    ...workOrderRoutes(deps),
  ];
}

/** Work orders: operators send them and record call-backs; the crew's app answers. */
function workOrderRoutes(deps: RouteDeps & { households: HouseholdsPort }): RouteDef[] {
  const hh = deps.households;
  const now = () => deps.clock.now();
  return [
    defineRoute({
      method: 'POST',
      url: '/api/households/cases/:id/work-orders',
      access: 'operator',
      tag: 'households',
      summary: 'Send a work order for this case to the repair crew (webhook outbox).',
      params: idParams,
      body: workOrderBody,
      response: record,
      audit: 'household.work_order',
      handler: async ({ params, body, principal }) =>
        (await hh.service.createWorkOrder(
          params.id,
          body.type,
          body.summary,
          principal!.name,
        )) as unknown as Record<string, unknown>,
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/work-orders',
      access: 'viewer',
      tag: 'households',
      summary: 'Work orders of the last 7 days (or since from), with their late flags.',
      query: fromToQuery,
      response: z.object({ workOrders: z.array(record) }),
      handler: async ({ query }) => ({
        workOrders: (await hh.store.workOrders({
          fromTs: query.from ?? now() - 7 * 24 * HOUR_MS,
        })) as unknown as Array<Record<string, unknown>>,
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/households/work-orders/:id/status',
      access: 'field',
      tag: 'households',
      summary: 'The crew’s app: accepted, on_site, or done with a note and a proof photo reference.',
      params: idParams,
      body: fieldStatusBody,
      response: record,
      audit: 'household.work_order.status',
      handler: async ({ params, body, principal }) => {
        // `field` ranks below viewer so it reaches nothing else; viewers themselves may not answer.
        if (principal!.role === 'viewer')
          throw Errors.forbidden('Only the field app or an operator may answer a work order.');
        const { status, ...detail } = body;
        return (await hh.service.fieldStatus(
          params.id,
          status,
          detail,
          principal!.name,
        )) as unknown as Record<string, unknown>;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/households/work-orders/:id/callback',
      access: 'operator',
      tag: 'households',
      summary: 'Record the call-back to the household after the repair (required before the case closes).',
      params: idParams,
      body: callbackBody,
      response: record,
      audit: 'household.callback',
      handler: async ({ params, body, principal }) =>
        (await hh.service.callBack(params.id, body, principal!.name)) as unknown as Record<string, unknown>,
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/outbox',
      access: 'engineer',
      tag: 'households',
      summary: 'Webhook deliveries: pending, delivered or dead-lettered.',
      query: z.object({ state: z.enum(['pending', 'delivered', 'dead']).optional() }).strict(),
      response: z.object({ items: z.array(record) }),
      handler: async ({ query }) => ({
        items: (await hh.store.outboxItems({ state: query.state, limit: 200 })) as unknown as Array<
          Record<string, unknown>
        >,
      }),
    }),
  ];
}
