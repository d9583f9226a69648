import { z } from 'zod';
import { Errors } from '../../core/errors.ts';
import { defineRoute, type RouteDef } from '../route-table.ts';
import { idParams, ticketActionBody, ticketActionParams, ticketListQuery, ticketSchema } from '../schemas.ts';
import { need, type RouteDeps } from './context.ts';

export function ticketRoutes(deps: RouteDeps): RouteDef[] {
  return [
    defineRoute({
      method: 'GET',
      url: '/api/tickets',
      access: 'viewer',
      tag: 'tickets',
      summary: 'Adjustment tickets, newest first; `status` filters (comma-separated).',
      query: ticketListQuery,
      response: z.object({ tickets: z.array(ticketSchema), now: z.number() }),
      handler: async ({ query }) => {
        const tickets = need(deps.tickets, 'The ticket queue');
        const wanted = query.status?.split(',');
        const list = await tickets.list(wanted?.length === 1 ? { status: wanted[0] } : {});
        const filtered = wanted ? list.filter((t) => wanted.includes(t.status)) : list;
        return { tickets: filtered.sort((a, b) => b.updatedTs - a.updatedTs), now: deps.clock.now() };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/tickets/:id',
      access: 'viewer',
      tag: 'tickets',
      summary: 'One ticket with its evidence, proposal, re-check time and event history.',
      params: idParams,
      response: ticketSchema,
      handler: async ({ params }) => {
        const t = await need(deps.tickets, 'The ticket queue').get(params.id);
        if (!t) throw Errors.notFound(`No ticket with id '${params.id}'.`, 'params.id');
        return t;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/tickets/:id/:action',
      access: 'operator',
      tag: 'tickets',
      summary: 'Approve, apply, reject or close a ticket (operator).',
      params: ticketActionParams,
      body: ticketActionBody,
      response: ticketSchema,
      audit: 'ticket.action',
      handler: async ({ params, body, principal }) =>
        need(deps.tickets, 'The ticket queue').act(params.id, params.action, principal!.name, body?.note),
    }),
  ];
}
