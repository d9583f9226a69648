import { z } from 'zod';
import { Errors } from '../../core/errors.ts';
import type { HouseholdsPort } from '../../households/http-port.ts';
import { bulletinCsv, bulletinHtml } from '../../households/report-render.ts';
import type { Bulletin } from '../../households/reports.ts';
import { seasonCsv } from '../../households/season.ts';
import { LOCALES, type Locale, type Translator, translator } from '../../i18n/index.ts';
import { defineRoute, type RouteDef } from '../route-table.ts';
import { idParams, instant } from '../schemas.ts';
import type { RouteDeps } from './context.ts';
import { record } from './households-schemas.ts';

/** The printable page carries its own small stylesheet; nothing else may load or run. */
const PRINT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/** Season review, daily bulletins and digests (docs/households.md): JSON, printable HTML and CSV. */
export function householdReportRoutes(deps: RouteDeps & { households: HouseholdsPort }): RouteDef[] {
  const hh = deps.households;
  const DAY_MS = 86_400_000;
  /** The season's rows; hours below 18 °C from the reading history when it can be read. */
  const season = async (q: { from?: number; to?: number }) => {
    const toTs = q.to ?? deps.clock.now();
    const fromTs = q.from ?? toTs - 180 * DAY_MS;
    let hours: Map<string, number> | undefined;
    try {
      const r = await deps.compliance?.report(fromTs, toTs);
      if (r) hours = new Map(r.buildings.map((b) => [b.buildingId, b.unitHours * b.belowShare]));
    } catch {
      hours = undefined; // the store is down: the list still ranks by cases, complaints and tasks
    }
    return { fromTs, toTs, rows: await hh.reporter.seasonReview(fromTs, toTs, hours) };
  };
  const seasonQuery = z.object({ from: instant.optional(), to: instant.optional() }).strict();
  return [
    defineRoute({
      method: 'GET',
      url: '/api/households/season-review',
      access: 'viewer',
      tag: 'households',
      summary:
        'The season per building (hours below 18 °C, cases, complaints by class, repeated field tasks, adjustments that did not help), ranked into the summer repair list. Default: the last 180 days.',
      query: seasonQuery,
      response: z.object({ fromTs: z.number(), toTs: z.number(), rows: z.array(record) }),
      handler: async ({ query }) =>
        (await season(query)) as unknown as {
          fromTs: number;
          toTs: number;
          rows: Array<Record<string, unknown>>;
        },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/season-review/csv',
      access: 'viewer',
      tag: 'households',
      summary: 'The summer repair list as CSV.',
      query: seasonQuery,
      produces: 'text/csv',
      handler: async ({ query, reply }) => {
        const s = await season(query);
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="summer-repair-list.csv"');
        return seasonCsv(s.rows);
      },
    }),
    ...bulletinRoutes(deps),
  ];
}

/** The reader's language (asked for, else theirs, else the site's) in the site's time zone. */
const readerTranslator = (deps: RouteDeps, locale: Locale | undefined): Translator =>
  translator(locale ?? deps.http.locale.default, deps.http.locale.timeZone);

/** Daily bulletins and two-hourly digests: made on demand or by schedule, read as JSON, HTML, CSV. */
function bulletinRoutes(deps: RouteDeps & { households: HouseholdsPort }): RouteDef[] {
  const hh = deps.households;
  const load = async (id: string): Promise<Bulletin> => {
    const r = id === 'latest' ? (await hh.store.reports('bulletin', 1))[0] : await hh.store.getReport(id);
    if (r?.kind !== 'bulletin') throw Errors.notFound(`No bulletin '${id}'.`, 'params.id');
    return r.body as Bulletin;
  };
  return [
    defineRoute({
      method: 'GET',
      url: '/api/households/bulletins',
      access: 'viewer',
      tag: 'households',
      summary: 'Daily bulletins kept in the ops database, newest first (id and time).',
      response: z.object({ bulletins: z.array(z.object({ id: z.string(), ts: z.number() })) }),
      handler: async () => ({
        bulletins: (await hh.store.reports('bulletin', 100)).map((r) => ({ id: r.id, ts: r.ts })),
      }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/households/bulletins',
      access: 'operator',
      tag: 'households',
      summary: 'Make the daily bulletin now (the schedule makes one each day) and send it to the notifiers.',
      response: record,
      audit: 'household.bulletin',
      handler: async () => (await hh.reporter.runBulletin()) as unknown as Record<string, unknown>,
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/bulletins/:id',
      access: 'viewer',
      tag: 'households',
      summary: 'One bulletin as JSON (`latest` for the newest).',
      params: idParams,
      response: record,
      handler: async ({ params }) => (await load(params.id)) as unknown as Record<string, unknown>,
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/bulletins/:id/html',
      access: 'viewer',
      tag: 'households',
      summary: 'One bulletin as a printable HTML page.',
      params: idParams,
      query: z.object({ locale: z.enum(LOCALES).optional() }).strict(),
      produces: 'text/html',
      handler: async ({ params, query, reply, principal }) => {
        const b = await load(params.id);
        reply.header('content-security-policy', PRINT_CSP).type('text/html; charset=utf-8');
        return bulletinHtml(b, 'heatwatch', readerTranslator(deps, query.locale ?? principal?.locale));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/bulletins/:id/csv',
      access: 'viewer',
      tag: 'households',
      summary: 'A table of one bulletin as CSV: units (default), worst or hotspots.',
      params: idParams,
      query: z
        .object({
          table: z.enum(['units', 'worst', 'hotspots']).default('units'),
          /** Header row in this language for people; absent, the stable machine names. */
          locale: z.enum(LOCALES).optional(),
        })
        .strict(),
      produces: 'text/csv',
      handler: async ({ params, query, reply }) => {
        const b = await load(params.id);
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${b.id}-${query.table}.csv"`);
        return bulletinCsv(b, query.table, query.locale && readerTranslator(deps, query.locale));
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/households/digests',
      access: 'viewer',
      tag: 'households',
      summary: 'The latest two-hourly digests, one per heating unit with open items.',
      response: z.object({
        digests: z.array(z.object({ id: z.string(), ts: z.number(), body: z.unknown() })),
      }),
      handler: async () => ({ digests: await hh.store.reports('digest', 50) }),
    }),
    defineRoute({
      method: 'POST',
      url: '/api/households/digests',
      access: 'operator',
      tag: 'households',
      summary: 'Send the digests now (the schedule sends them every two hours).',
      response: z.object({ digests: z.array(record) }),
      audit: 'household.digest',
      handler: async () => ({
        digests: (await hh.reporter.runDigest()) as unknown as Array<Record<string, unknown>>,
      }),
    }),
  ];
}
