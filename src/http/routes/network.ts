import { z } from 'zod';
import { Errors, HwError } from '../../core/errors.ts';
import type { BuildingState } from '../../core/events.ts';
import { curveSupplyC, POSITION_CLASSES, type PositionClass } from '../../core/registry.ts';
import type { HistoryPoint } from '../../storage/reading-store.ts';
import { historyRange } from '../ranges.ts';
import { defineRoute, type RouteDef } from '../route-table.ts';
import {
  buildingDetailSchema,
  buildingHistorySchema,
  buildingSummarySchema,
  historyQuery,
  idParams,
  substationDetailSchema,
  substationHistorySchema,
  substationSummarySchema,
  weatherSchema,
} from '../schemas.ts';
import { need, openTicketCounts, type RouteDeps } from './context.ts';

type BuildingSummary = z.infer<typeof buildingSummarySchema>;

function buildingSummary(
  deps: RouteDeps,
  id: string,
  now: number,
  open: Map<string, number>,
): BuildingSummary {
  const b = deps.live.index.buildings.get(id)!;
  const s = deps.live.buildingStats(id, now);
  return {
    id: b.id,
    name: b.name,
    substationId: b.substationId,
    floors: b.floors,
    unitsPerFloor: b.unitsPerFloor,
    state: deps.buildingState.stateOf(id),
    sensors: s?.sensors ?? 0,
    fresh: s?.fresh ?? 0,
    meanC: s?.meanC,
    minC: s?.minC,
    exposedMeanC: s?.exposedMeanC,
    middleMeanC: s?.middleMeanC,
    newestTs: s?.newestTs,
    openTickets: open.get(id) ?? 0,
  };
}

function substationSummary(
  deps: RouteDeps,
  id: string,
  buildings: BuildingSummary[],
  open: Map<string, number>,
): z.infer<typeof substationSummarySchema> {
  const sub = deps.live.index.substations.get(id)!;
  const latest = deps.live.substation(id)?.latest;
  const outdoor = deps.live.observation?.outdoorTempC ?? latest?.outdoorTempC;
  const statusCounts: Partial<Record<BuildingState, number>> = {};
  let sum = 0;
  let n = 0;
  for (const b of buildings) {
    statusCounts[b.state] = (statusCounts[b.state] ?? 0) + 1;
    if (b.meanC !== undefined) {
      sum += b.meanC * b.fresh;
      n += b.fresh;
    }
  }
  return {
    id: sub.id,
    name: sub.name,
    curve: sub.curve,
    buildings: buildings.length,
    statusCounts,
    latest: latest
      ? {
          ts: latest.ts,
          supplyTempC: latest.supplyTempC,
          returnTempC: latest.returnTempC,
          flowM3h: latest.flowM3h,
          valvePct: latest.valvePct,
          outdoorTempC: latest.outdoorTempC,
          supplyOffsetC: latest.supplyOffsetC,
        }
      : undefined,
    curveSupplyC:
      outdoor === undefined ? undefined : curveSupplyC(sub.curve, outdoor, latest?.supplyOffsetC ?? 0),
    meanC: n > 0 ? sum / n : undefined,
    openTickets: open.get(id) ?? 0,
  };
}

/** Store failures become 503 with an actionable message; our own coded errors pass through. */
async function fromStore<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof HwError) throw err;
    throw Errors.storeDown();
  }
}

/** The query a history route takes (`from`, `to`, `every`). */
type HistoryRangeQuery = Parameters<typeof historyRange>[0];

export function networkRoutes(deps: RouteDeps): RouteDef[] {
  const known = (id: string, map: Map<string, unknown>, what: string) => {
    if (!map.has(id)) throw Errors.notFound(`No ${what} with id '${id}'.`, 'params.id');
  };
  /**
   * What a history route checks first, in this order: the building or substation exists (404), this
   * installation has a reading store (503), the range asked for is allowed (400).
   */
  const historyOf = <T>(id: string, map: Map<string, T>, what: string, query: HistoryRangeQuery) => {
    known(id, map, what);
    return {
      entity: map.get(id)!,
      history: need(deps.history, 'The reading store'),
      range: historyRange(query, deps.clock.now(), deps.http),
    };
  };
  return [
    defineRoute({
      method: 'GET',
      url: '/api/buildings',
      access: 'viewer',
      tag: 'network',
      summary: 'Every building with its live state, means and open-ticket count.',
      response: z.object({ buildings: z.array(buildingSummarySchema) }),
      handler: async () => {
        const now = deps.clock.now();
        const { byBuilding } = await openTicketCounts(deps);
        return {
          buildings: [...deps.live.index.buildings.keys()].map((id) =>
            buildingSummary(deps, id, now, byBuilding),
          ),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/buildings/:id',
      access: 'viewer',
      tag: 'network',
      summary: 'One building: latest temperature per unit, position-class means.',
      params: idParams,
      response: buildingDetailSchema,
      handler: async ({ params }) => {
        known(params.id, deps.live.index.buildings, 'building');
        const now = deps.clock.now();
        const { byBuilding } = await openTicketCounts(deps);
        const stats = deps.live.buildingStats(params.id, now);
        return {
          ...buildingSummary(deps, params.id, now, byBuilding),
          classes: stats?.classes ?? {},
          units: deps.live.buildingSensors(params.id).map((s) => ({
            sensorId: s.info.sensor.id,
            floor: s.info.sensor.floor,
            column: s.info.sensor.column,
            classes: s.info.classes,
            tempC: s.tempC,
            ts: s.ts,
            fresh: deps.live.isFresh(s, now),
            online: s.statusOnline,
            source: s.source,
          })),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/buildings/:id/history',
      access: 'viewer',
      tag: 'network',
      summary: 'Room temperature history per position class, with supply and outdoor temperature.',
      params: idParams,
      query: historyQuery,
      response: buildingHistorySchema,
      handler: async ({ params, query }) => {
        const {
          entity: b,
          history,
          range: r,
        } = historyOf(params.id, deps.live.index.buildings, 'building', query);
        const [all, supply, ...perClass] = await fromStore(
          Promise.all([
            history.roomHistory({ ...r, buildingId: params.id }),
            history.substationHistory({ ...r, substationId: b.substationId }),
            ...POSITION_CLASSES.map((c) =>
              history.roomHistory({ ...r, buildingId: params.id, positionClass: c }),
            ),
          ]),
        );
        const classes: Partial<Record<PositionClass, HistoryPoint[]>> = {};
        POSITION_CLASSES.forEach((c, i) => {
          const pts = perClass[i] as HistoryPoint[];
          if (pts.length > 0) classes[c] = pts;
        });
        return { buildingId: params.id, ...r, all: all as HistoryPoint[], classes, supply: supply as never };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/substations',
      access: 'viewer',
      tag: 'network',
      summary: 'Every substation: latest meter reading, heating-curve target, building states.',
      response: z.object({ substations: z.array(substationSummarySchema) }),
      handler: async () => {
        const now = deps.clock.now();
        const { byBuilding, bySubstation } = await openTicketCounts(deps);
        return {
          substations: [...deps.live.index.substations.keys()].map((id) =>
            substationSummary(
              deps,
              id,
              (deps.live.index.buildingsBySubstation.get(id) ?? []).map((b) =>
                buildingSummary(deps, b.id, now, byBuilding),
              ),
              bySubstation,
            ),
          ),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/substations/:id',
      access: 'viewer',
      tag: 'network',
      summary: 'One substation with its buildings.',
      params: idParams,
      response: substationDetailSchema,
      handler: async ({ params }) => {
        known(params.id, deps.live.index.substations, 'substation');
        const now = deps.clock.now();
        const { byBuilding, bySubstation } = await openTicketCounts(deps);
        const buildingList = (deps.live.index.buildingsBySubstation.get(params.id) ?? []).map((b) =>
          buildingSummary(deps, b.id, now, byBuilding),
        );
        return { ...substationSummary(deps, params.id, buildingList, bySubstation), buildingList };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/substations/:id/history',
      access: 'viewer',
      tag: 'network',
      summary: 'Supply temperature against the heating curve at the outdoor temperature (curve self-audit).',
      params: idParams,
      query: historyQuery,
      response: substationHistorySchema,
      handler: async ({ params, query }) => {
        const {
          entity: sub,
          history,
          range: r,
        } = historyOf(params.id, deps.live.index.substations, 'substation', query);
        const pts = await fromStore(history.substationHistory({ ...r, substationId: params.id }));
        return {
          substationId: params.id,
          ...r,
          points: pts.map((p) => ({
            ...p,
            curveSupplyC: p.outdoorTempC === undefined ? undefined : curveSupplyC(sub.curve, p.outdoorTempC),
          })),
        };
      },
    }),
    defineRoute({
      method: 'GET',
      url: '/api/weather',
      access: 'viewer',
      tag: 'network',
      summary: 'Latest outdoor observation and forecast.',
      response: weatherSchema,
      handler: () => ({ observation: deps.live.observation, forecast: deps.live.forecast }),
    }),
  ];
}
