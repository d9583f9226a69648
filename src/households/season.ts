import type { RegistryIndex } from '../core/registry.ts';
import type { TicketLike } from './reports.ts';
import {
  COMPLAINT_CLASSES,
  type Complaint,
  type ComplaintClass,
  type HouseholdCase,
  type WorkOrder,
} from './types.ts';

/**
 * How much each kind of evidence weighs in the summer repair ranking: a day of unit-hours below
 * 18 °C counts 1, a case 2, a complaint 1, a field task repeated at the same building 3, an
 * adjustment that did not help 3 (it points at a fault no setpoint can fix).
 */
const WEIGHT = { dayBelow: 1, case: 2, complaint: 1, repeatedTask: 3, failedAdjustment: 3 } as const;

export interface SeasonRow {
  rank: number;
  buildingId: string;
  name: string;
  substationId: string;
  street?: string;
  /** Unit-hours below 18 °C in the season (null: no history available). */
  hoursBelow18: number | null;
  cases: number;
  complaints: number;
  complaintsByClass: Record<ComplaintClass, number>;
  fieldTasks: number;
  repeatedFieldTasks: number;
  failedAdjustments: number;
  score: number;
}

/** The season's problems per building, ranked into the summer repair list (pure). */
export function seasonReview(x: {
  index: RegistryIndex;
  fromTs: number;
  toTs: number;
  cases: HouseholdCase[];
  complaints: Complaint[];
  workOrders: WorkOrder[];
  tickets: TicketLike[];
  hoursBelow18?: Map<string, number>;
}): SeasonRow[] {
  const within = (ts: number) => ts >= x.fromTs && ts <= x.toTs;
  const rows = [...x.index.buildings.values()].map((b) => {
    const complaints = x.complaints.filter((c) => c.buildingId === b.id && within(c.receivedTs));
    const tasks = x.workOrders.filter((w) => w.buildingId === b.id && within(w.createdTs)).length;
    const failed = x.tickets.filter(
      (t) => t.targetId === b.id && t.outcome !== undefined && !t.outcome.resolved && within(t.outcome.ts),
    ).length;
    const hours = x.hoursBelow18?.get(b.id);
    const row = {
      rank: 0,
      buildingId: b.id,
      name: b.name,
      substationId: b.substationId,
      ...(b.street ? { street: b.street } : {}),
      hoursBelow18: hours === undefined ? null : Math.round(hours),
      cases: x.cases.filter((k) => k.buildingId === b.id && within(k.openedTs)).length,
      complaints: complaints.length,
      complaintsByClass: Object.fromEntries(
        COMPLAINT_CLASSES.map((c) => [c, complaints.filter((k) => k.cls === c).length]),
      ) as Record<ComplaintClass, number>,
      fieldTasks: tasks,
      repeatedFieldTasks: Math.max(0, tasks - 1),
      failedAdjustments: failed,
      score: 0,
    };
    row.score =
      Math.round(
        ((hours ?? 0) / 24) * WEIGHT.dayBelow +
          row.cases * WEIGHT.case +
          row.complaints * WEIGHT.complaint +
          row.repeatedFieldTasks * WEIGHT.repeatedTask +
          row.failedAdjustments * WEIGHT.failedAdjustment,
      ) || 0;
    return row;
  });
  rows.sort((a, b) => b.score - a.score || a.buildingId.localeCompare(b.buildingId));
  rows.forEach((r, i) => {
    r.rank = i + 1;
  });
  return rows;
}

/** The summer repair list as CSV (one row per building, best candidates first). */
export function seasonCsv(rows: SeasonRow[]): string {
  const head = [
    'rank',
    'buildingId',
    'name',
    'street',
    'substationId',
    'hoursBelow18',
    'cases',
    'complaints',
    ...COMPLAINT_CLASSES.map((c) => `complaints_${c}`),
    'fieldTasks',
    'repeatedFieldTasks',
    'failedAdjustments',
    'score',
  ];
  const cell = (v: unknown) => {
    const s = String(v ?? '');
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = rows.map((r) =>
    [
      r.rank,
      r.buildingId,
      r.name,
      r.street ?? '',
      r.substationId,
      r.hoursBelow18 ?? '',
      r.cases,
      r.complaints,
      ...COMPLAINT_CLASSES.map((c) => r.complaintsByClass[c]),
      r.fieldTasks,
      r.repeatedFieldTasks,
      r.failedAdjustments,
      r.score,
    ]
      .map(cell)
      .join(','),
  );
  return `${[head.join(','), ...lines].join('\n')}\n`;
}
