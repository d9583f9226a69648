import { z } from 'zod';
import { Errors, HwError } from '../../core/errors.ts';
import type { RoomReading } from '../../core/readings.ts';
import { complianceCsv } from '../compliance.ts';
import { complianceRange } from '../ranges.ts';
import { defineRoute, type RouteDef } from '../route-table.ts';
import {
  auditQuery,
  auditSchema,
  complianceQuery,
  complianceSchema,
  configSummarySchema,
  dryRunSchema,
  healthSchema,
  manualBody,
  manualResultSchema,
  meSchema,
} from '../schemas.ts';
import { need, type RouteDeps } from './context.ts';

const liveQuery = z
  .object({
    token: z.string().max(512).optional(),
    /** Comma-separated building ids whose readings to push; `none` for status and tickets only. */
    buildings: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$/)
      .max(8192)
      .optional(),
    lastEventId: z
      .string()
      .regex(/^\d{1,15}$/)
      .optional(),
  })
  .strict();

export function opsRoutes(deps: RouteDeps): RouteDef[] {
  const runCompliance = async (q: z.infer<typeof complianceQuery>) => {
    const { fromMs, toMs } = complianceRange(q, deps.clock.now(), deps.http);
    try {
      return await need(deps.compliance, 'Compliance figures').report(fromMs, toMs);
    } catch (err) {
      if (err instanceof HwError) throw err;
      throw Errors.storeDown();
    }
  };

  return [
    defineRoute({
      method: 'GET',
      url: '/api/health',
      access: 'public',
      tag: 'service',
      summary: 'Broker, stores, spool depth and config version. No token needed.',
      response: healthSchema,
      handler: async ({ reply }) => {
        const h = await need(deps.health, 'Health').health();
        if (h.status === 'down') reply.code(503);
        return h;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/metrics',
      access: 'viewer',
      tag: 'service',
      summary: 'Prometheus text exposition.',
      produces: 'text/plain; version=0.0.4',
      handler: async ({ reply }) => {
        const m = need(deps.metrics, 'Metrics');
        const text = m.exposition ? await m.exposition() : await m.render();
        reply.type('text/plain; version=0.0.4; charset=utf-8');
        return text;
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/me',
      access: 'viewer',
      tag: 'service',
      summary: 'Who the token belongs to and its role (the dashboard shows only allowed actions).',
      response: meSchema,
      handler: ({ principal }) => ({
        ...principal!,
        locale: principal!.locale ?? deps.http.locale.default,
        timeZone: deps.http.locale.timeZone,
        now: deps.clock.now(),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/live',
      access: 'viewer',
      tag: 'live',
      summary:
        'Server-sent events: readings (coalesced), building status and ticket changes. Resumes with Last-Event-ID. ' +
        'The token may be given as ?token= here only, because EventSource cannot set headers.',
      query: liveQuery,
      produces: 'text/event-stream',
      tokenInQuery: true,
      handler: ({ query, req, reply, principal }) => {
        // HEAD (fastify answers it through this GET route): the stream's headers, no stream.
        if (req.method === 'HEAD') {
          reply.type('text/event-stream; charset=utf-8');
          return '';
        }
        const header = req.headers['last-event-id'];
        const lastEventId = (typeof header === 'string' ? header : undefined) ?? query.lastEventId;
        reply.hijack();
        deps.hub.attach(reply.raw, {
          lastEventId,
          buildings: query.buildings === 'none' ? [] : query.buildings?.split(','),
          headers: reply.getHeaders() as Record<string, string>,
          user: principal!.name,
          address: req.ip,
        });
        return undefined;
      },
    }),
    defineRoute({
      method: 'POST',
      url: '/api/readings/manual',
      access: 'operator',
      tag: 'readings',
      summary: 'Record a manual in-home measurement (room by room, two staff). It outweighs a sensor.',
      body: manualBody,
      response: manualResultSchema,
      audit: 'reading.manual',
      handler: async ({ body }) => {
        const sink = need(deps.manual, 'Manual readings');
        const reg = deps.live.index;
        const b = reg.buildings.get(body.buildingId);
        if (!b)
          throw Errors.badRequest(`body.buildingId: no building '${body.buildingId}'`, 'body.buildingId');
        if (body.floor > b.floors)
          throw Errors.badRequest(`body.floor: building has ${b.floors} floors`, 'body.floor');
        if (body.column > b.unitsPerFloor)
          throw Errors.badRequest(
            `body.column: building has ${b.unitsPerFloor} units per floor`,
            'body.column',
          );
        const info = (reg.sensorsByBuilding.get(b.id) ?? []).find(
          (i) => i.sensor.floor === body.floor && i.sensor.column === body.column,
        );
        if (!info)
          throw Errors.badRequest(
            'body.column: no monitored unit at this floor and column; manual readings attach to a monitored unit',
            'body.column',
          );
        const now = deps.clock.now();
        if (body.ts > now + 5 * 60_000) throw Errors.badRequest('body.ts: lies in the future', 'body.ts');
        // The unit's value is the mean of its rooms (room-by-room in-home measurement, docs/domain.md).
        const tempC =
          Math.round((body.rooms.reduce((s, r) => s + r.tempC, 0) / body.rooms.length) * 100) / 100;
        const reading: RoomReading = {
          sensorId: info.sensor.id,
          ts: body.ts,
          tempC,
          buildingId: b.id,
          substationId: b.substationId,
          floor: body.floor,
          column: body.column,
          classes: info.classes,
          source: 'manual',
        };
        const r = await sink.submit(reading, body);
        if (!r.ok) throw Errors.badRequest(`body: refused: ${r.reason}`, 'body');
        return { sensorId: reading.sensorId, tempC, ts: reading.ts };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/compliance',
      access: 'viewer',
      tag: 'compliance',
      summary: 'Share of unit-hours in band per building and the coldest units (default: last 7 days).',
      query: complianceQuery,
      response: complianceSchema,
      handler: ({ query }) => runCompliance(query),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/compliance.csv',
      access: 'viewer',
      tag: 'compliance',
      summary: 'The compliance table as CSV.',
      query: complianceQuery,
      produces: 'text/csv',
      handler: async ({ query, reply }) => {
        const r = await runCompliance(query);
        reply
          .type('text/csv; charset=utf-8')
          .header(
            'content-disposition',
            `attachment; filename="heatwatch-compliance-${r.fromMs}-${r.toMs}.csv"`,
          );
        return complianceCsv(r, query.locale);
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/audit',
      access: 'engineer',
      tag: 'service',
      summary: 'The audit log, newest first (every write and every failed login).',
      query: auditQuery,
      response: auditSchema,
      handler: async ({ query }) => ({
        rows: await deps.audit.page(Math.min(query.limit ?? 100, deps.http.auditPageMax), query.before),
      }),
    }),
    defineRoute({
      method: 'GET',
      url: '/api/config',
      access: 'engineer',
      tag: 'engineering',
      summary: 'The configuration in force (secrets omitted) and its version.',
      response: configSummarySchema,
      handler: () => need(deps.engineer, 'Config view').configSummary(),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/rules/dry-run',
      access: 'engineer',
      tag: 'engineering',
      summary: 'Run the rules on the live state now and return the findings without opening tickets.',
      response: dryRunSchema,
      audit: 'rules.dry-run',
      handler: async () => {
        const eng = need(deps.engineer, 'Rules dry run');
        if (!eng.dryRun) throw Errors.storeDown('The rules dry run is not available in this installation.');
        return eng.dryRun();
      },
    }),
  ];
}
