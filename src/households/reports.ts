import type { HouseholdsConfig } from '../config/households-schema.ts';
import type { RegistryIndex } from '../core/registry.ts';
import { addFigures, type ComplianceFigures, zeroFigures } from '../rules/compliance.ts';
import {
  CHANNELS,
  COMPLAINT_CLASSES,
  type Complaint,
  type HouseholdCase,
  type MeasurementTask,
  type WorkOrder,
} from './types.ts';

const HOUR_MS = 3_600_000;
/** The daily bulletin covers the hours up to its run. */
export const BULLETIN_H = 24;
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const share = (n: number, of: number) => (of > 0 ? round(n / of, 3) : null);

/** The tickets the bulletin counts (TicketService's records satisfy it). */
export interface TicketLike {
  id: string;
  status: string;
  problem: string;
  targetId: string;
  substationId: string;
  summary?: string;
  createdTs: number;
  appliedTs?: number;
  outcome?: { ts: number; resolved: boolean; text: string };
}

/** Everything a report is computed from; the pure builders below read nothing else. */
export interface ReportInput {
  now: number;
  cfg: HouseholdsConfig;
  index: RegistryIndex;
  cases: HouseholdCase[];
  tasks: MeasurementTask[];
  complaints: Complaint[];
  workOrders: WorkOrder[];
  tickets: TicketLike[];
  /** Unit-hours of each sensor over the bulletin's period (`BULLETIN_H` up to `now`); empty for a digest. */
  unitHours: ReadonlyMap<string, ComplianceFigures>;
}

export interface HeatingUnit {
  id: string;
  name: string;
  substations: string[];
}

/** Configured groups, plus every substation in no group as its own heating unit. */
export function heatingUnits(cfg: HouseholdsConfig, index: RegistryIndex): HeatingUnit[] {
  const out: HeatingUnit[] = cfg.digest.heatingUnits.map((u) => ({ ...u }));
  const grouped = new Set(out.flatMap((u) => u.substations));
  for (const s of index.substations.values())
    if (!grouped.has(s.id)) out.push({ id: s.id, name: s.name, substations: [s.id] });
  return out;
}

const OPEN_TICKET = new Set(['proposed', 'approved', 'applied', 'rechecking']);

/** The two-hourly reminder of one heating unit: open cases with age, overdue tasks, open tickets. */
export function buildDigests(x: ReportInput) {
  return heatingUnits(x.cfg, x.index).map((u) => {
    const mine = new Set(u.substations);
    const cases = x.cases.filter((k) => mine.has(k.substationId) && k.state !== 'closed');
    const caseIds = new Set(cases.map((k) => k.id));
    return {
      heatingUnit: u.id,
      name: u.name,
      ts: x.now,
      openCases: cases.map((k) => ({
        id: k.id,
        unit: k.unitKey,
        state: k.state,
        owner: k.owner,
        ageH: round((x.now - k.openedTs) / HOUR_MS),
        overdue: k.state !== 'watching' && x.now > k.dueTs,
      })),
      overdueTasks: x.tasks
        .filter(
          (t) =>
            caseIds.has(t.caseId) && (t.state === 'overdue' || (t.state === 'pending' && t.dueTs < x.now)),
        )
        .map((t) => ({ id: t.id, unit: t.unitKey, dueTs: t.dueTs })),
      openTickets: x.tickets
        .filter((t) => mine.has(t.substationId) && OPEN_TICKET.has(t.status))
        .map((t) => ({
          id: t.id,
          status: t.status,
          problem: t.problem,
          targetId: t.targetId,
          ageH: round((x.now - t.createdTs) / HOUR_MS),
        })),
      lateWorkOrders: x.workOrders
        .filter((w) => mine.has(w.substationId) && w.late && w.state !== 'called_back')
        .map((w) => ({ id: w.id, type: w.type, unit: w.unitKey ?? w.buildingId })),
    };
  });
}
export type Digest = ReturnType<typeof buildDigests>[number];

/** The compliance of the flats of these substations over the bulletin's period (the rules' unit-hours). */
function complianceOf(x: ReportInput, substations: Set<string>) {
  const total: ComplianceFigures = zeroFigures();
  let flatsLowBand = 0;
  let flatsVeryLowBand = 0;
  let flatsSeen = 0;
  for (const s of x.index.sensors.values()) {
    const f = substations.has(s.substation.id) ? x.unitHours.get(s.sensor.id) : undefined;
    if (!f || f.hours <= 0) continue;
    flatsSeen++;
    addFigures(total, f);
    // A flat is in a refund band when it spent most of its observed day there.
    if (f.veryLowBandHours > f.hours / 2) flatsVeryLowBand++;
    else if (f.lowBandHours + f.veryLowBandHours > f.hours / 2) flatsLowBand++;
  }
  return {
    flatsSeen,
    unitHours: round(total.hours),
    inBandShare: share(total.inBandHours, total.hours),
    degreeHoursBelow: round(total.degreeHoursBelow),
    lowBandHours: round(total.lowBandHours),
    veryLowBandHours: round(total.veryLowBandHours),
    flatsLowBand,
    flatsVeryLowBand,
  };
}

function section(x: ReportInput, fromTs: number, toTs: number, substations: Set<string>) {
  const inUnit = <T extends { substationId: string }>(list: T[]) =>
    list.filter((v) => substations.has(v.substationId));
  const cases = inUnit(x.cases);
  const complaints = inUnit(x.complaints);
  const received = complaints.filter((c) => c.receivedTs > fromTs && c.receivedTs <= toTs);
  const closed = complaints.filter(
    (c) => c.closedTs !== undefined && c.closedTs > fromTs && c.closedTs <= toTs,
  );
  const stillOpen = complaints.filter((c) => c.closedTs === undefined && c.receivedTs <= toTs);
  const limitMs = x.cfg.complaints.closeWithinH * HOUR_MS;
  const orders = inUnit(x.workOrders);
  const callbacks = orders.filter((w) => w.callback && w.callback.ts > fromTs && w.callback.ts <= toTs);
  const tickets = inUnit(x.tickets);
  const rechecked = tickets.filter((t) => t.outcome && t.outcome.ts > fromTs && t.outcome.ts <= toTs);
  const count = <K extends string>(keys: readonly K[], of: (c: Complaint) => K) =>
    Object.fromEntries(keys.map((k) => [k, received.filter((c) => of(c) === k).length])) as Record<K, number>;
  return {
    compliance: complianceOf(x, substations),
    cases: {
      opened: cases.filter((k) => k.openedTs > fromTs && k.openedTs <= toTs).length,
      closed: cases.filter((k) => k.closedTs !== undefined && k.closedTs > fromTs && k.closedTs <= toTs)
        .length,
      open: cases.filter((k) => k.state !== 'closed').length,
      overdue: cases.filter((k) => k.state !== 'closed' && k.state !== 'watching' && toTs > k.dueTs).length,
    },
    complaints: {
      received: received.length,
      byClass: count(COMPLAINT_CLASSES, (c) => c.cls),
      byChannel: count(CHANNELS, (c) => c.channel),
    },
    tickets: {
      applied: tickets.filter((t) => t.appliedTs !== undefined && t.appliedTs > fromTs && t.appliedTs <= toTs)
        .length,
      rechecked: rechecked.length,
      resolved: rechecked.filter((t) => t.outcome!.resolved).length,
      outcomes: rechecked.map((t) => ({
        id: t.id,
        targetId: t.targetId,
        resolved: t.outcome!.resolved,
        text: t.outcome!.text,
      })),
    },
    workOrders: {
      sent: orders.filter((w) => w.createdTs > fromTs && w.createdTs <= toTs).length,
      late: orders.filter((w) => w.createdTs > fromTs && w.createdTs <= toTs && w.late).length,
    },
    rates: {
      complaintsClosed: closed.length,
      /** Closed in the period, of those closed in it or still open at its end. */
      closedShare: share(closed.length, closed.length + stillOpen.length),
      /** Of those closed in the period, closed within their time limit. */
      closedInTimeShare: share(
        closed.filter((c) => c.closedTs! - c.receivedTs <= limitMs).length,
        closed.length,
      ),
      callbacks: callbacks.length,
      satisfiedShare: share(callbacks.filter((w) => w.callback!.satisfied).length, callbacks.length),
    },
  };
}
export type BulletinSection = ReturnType<typeof section>;

/** Repeated complaints per building and per street within the hotspot window. */
function hotspots(x: ReportInput) {
  const since = x.now - x.cfg.complaints.hotspotWindowH * HOUR_MS;
  const recent = x.complaints.filter((c) => c.receivedTs >= since && c.receivedTs < x.now);
  const tally = (key: (c: Complaint) => string | undefined) => {
    const m = new Map<string, number>();
    for (const c of recent) {
      const k = key(c);
      if (k) m.set(k, (m.get(k) ?? 0) + 1);
    }
    return [...m].filter(([, n]) => n >= x.cfg.complaints.hotspotMinComplaints).sort((a, b) => b[1] - a[1]);
  };
  return {
    windowH: x.cfg.complaints.hotspotWindowH,
    buildings: tally((c) => c.buildingId).map(([id, complaints]) => ({
      buildingId: id,
      name: x.index.buildings.get(id)?.name ?? id,
      complaints,
    })),
    streets: tally((c) => x.index.buildings.get(c.buildingId)?.street).map(([street, complaints]) => ({
      street,
      complaints,
    })),
  };
}

/** The daily bulletin: the company, each heating unit, the worst buildings and repeat hotspots. */
export function buildBulletin(x: ReportInput, id: string) {
  const toTs = x.now;
  const fromTs = toTs - BULLETIN_H * HOUR_MS;
  const units = heatingUnits(x.cfg, x.index);
  const worst = [...x.index.buildings.values()]
    .map((b) => {
      const f = zeroFigures();
      for (const s of x.index.sensorsByBuilding.get(b.id) ?? []) addFigures(f, x.unitHours.get(s.sensor.id));
      return {
        buildingId: b.id,
        name: b.name,
        substationId: b.substationId,
        degreeHoursBelow: round(f.degreeHoursBelow),
        inBandShare: share(f.inBandHours, f.hours),
        complaints: x.complaints.filter(
          (c) => c.buildingId === b.id && c.receivedTs > fromTs && c.receivedTs <= toTs,
        ).length,
        openCases: x.cases.filter((k) => k.buildingId === b.id && k.state !== 'closed').length,
      };
    })
    .filter((b) => b.degreeHoursBelow > 0 || b.complaints > 0 || b.openCases > 0)
    .sort(
      (a, b) =>
        b.degreeHoursBelow - a.degreeHoursBelow || b.complaints - a.complaints || b.openCases - a.openCases,
    )
    .slice(0, x.cfg.bulletin.worstBuildings);
  return {
    id,
    ts: toTs,
    fromTs,
    toTs,
    company: section(x, fromTs, toTs, new Set(x.index.substations.keys())),
    heatingUnits: units.map((u) => ({
      id: u.id,
      name: u.name,
      ...section(x, fromTs, toTs, new Set(u.substations)),
    })),
    worstBuildings: worst,
    hotspots: hotspots(x),
  };
}
export type Bulletin = ReturnType<typeof buildBulletin>;
