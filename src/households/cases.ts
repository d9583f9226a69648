import type { HouseholdsConfig } from '../config/households-schema.ts';
import { HwError } from '../core/errors.ts';
import type {
  CaseOrigin,
  CaseState,
  Changes,
  HouseholdCase,
  Measurement,
  MeasurementTask,
  UnitRef,
} from './types.ts';
import { unitKey } from './types.ts';

const HOUR_MS = 3_600_000;

/**
 * Pure case logic: every function takes the state it needs, the config and `now`, and writes what it
 * decided into a `Changes` (applied by the store in one transaction). Nothing here reads a clock or
 * a database, so tests drive whole days in microseconds.
 */
export interface Ctx {
  cfg: HouseholdsConfig;
  /** The required room temperature (rules.requiredTempC, 18 °C). */
  requiredTempC: number;
  now: number;
  newId(prefix: string): string;
}

/** The case lifecycle's only transition table (docs/households.md). */
const NEXT: Record<CaseState, readonly CaseState[]> = {
  open: ['measuring', 'fixing', 'watching', 'escalated'],
  measuring: ['fixing', 'watching', 'escalated'],
  fixing: ['measuring', 'watching', 'escalated'],
  watching: ['closed', 'open', 'measuring', 'fixing', 'escalated'],
  escalated: ['measuring', 'fixing', 'watching'],
  closed: [],
};

export const canMove = (from: CaseState, to: CaseState): boolean => NEXT[from].includes(to);

/** Moves a case (recording the event); a move the table forbids is a bug or a stale request: 409. */
export function move(
  k: HouseholdCase,
  to: CaseState,
  actor: string,
  ctx: Ctx,
  ch: Changes,
  note?: string,
): void {
  if (k.state === to) return;
  if (!canMove(k.state, to))
    throw new HwError('HW_ERR_CASE_STATE', 409, `Case ${k.id} is ${k.state}; it cannot become ${to}.`);
  ch.events.push({ caseId: k.id, ts: ctx.now, actor, kind: 'state', fromState: k.state, toState: to, note });
  if (to === 'watching') {
    k.resumeState = k.state === 'escalated' ? 'fixing' : k.state;
    k.watchUntilTs = ctx.now + ctx.cfg.cases.watchH * HOUR_MS;
  } else k.watchUntilTs = undefined;
  if (to === 'closed') k.closedTs = ctx.now;
  k.state = to;
  k.updatedTs = ctx.now;
  touch(k, ch);
}

/** Puts the case into this decision's changes once (the last version wins). */
export function touch(k: HouseholdCase, ch: Changes): void {
  const i = ch.cases.findIndex((c) => c.id === k.id);
  if (i >= 0) ch.cases[i] = k;
  else ch.cases.push(k);
}

export function note(
  k: HouseholdCase,
  kind: string,
  actor: string,
  ctx: Ctx,
  ch: Changes,
  text?: string,
): void {
  ch.events.push({ caseId: k.id, ts: ctx.now, actor, kind, note: text });
  k.updatedTs = ctx.now;
  touch(k, ch);
}

/** The unit's open case, or a new one: never a twin (the store's partial unique index agrees). */
export function openOrJoin(
  existing: HouseholdCase | undefined,
  unit: UnitRef,
  origin: CaseOrigin,
  actor: string,
  owner: string,
  ctx: Ctx,
  ch: Changes,
  why: string,
): HouseholdCase {
  if (existing) {
    note(existing, `joined:${origin}`, actor, ctx, ch, why);
    return existing;
  }
  const k: HouseholdCase = {
    ...unit,
    id: ctx.newId('case'),
    unitKey: unitKey(unit),
    state: 'open',
    origin,
    owner,
    openedTs: ctx.now,
    updatedTs: ctx.now,
    dueTs: ctx.now + ctx.cfg.cases.dueH * HOUR_MS,
    escalationLevel: 0,
    complaints: 0,
    callbackPending: false,
    ticketIds: [],
  };
  ch.events.push({ caseId: k.id, ts: ctx.now, actor, kind: 'opened', toState: 'open', note: why });
  touch(k, ch);
  return k;
}

/** One level up the configured escalation ladder; the new level's person owns the case. */
export function escalate(
  k: HouseholdCase,
  actor: string,
  ctx: Ctx,
  ch: Changes,
  why: string,
  toLevel?: number,
): void {
  const levels = ctx.cfg.cases.escalation;
  const level = Math.min(
    levels.length,
    Math.max(k.escalationLevel + (toLevel === undefined ? 1 : 0), toLevel ?? 0),
  );
  if (level > k.escalationLevel) {
    k.escalationLevel = level;
    k.owner = levels[level - 1]!.to;
    ch.outbox.push({
      kind: 'case_escalated',
      body: { caseId: k.id, unitKey: k.unitKey, level, owner: k.owner, why },
    });
  }
  if (k.state !== 'escalated' && canMove(k.state, 'escalated')) move(k, 'escalated', actor, ctx, ch, why);
  else note(k, 'escalated', actor, ctx, ch, `level ${k.escalationLevel} (${k.owner}): ${why}`);
}

/** A new measurement task for two staff, due within the configured hours (docs/domain.md: 24 h). */
export function newTask(k: HouseholdCase, ctx: Ctx, ch: Changes): MeasurementTask {
  const t: MeasurementTask = {
    id: ctx.newId('task'),
    caseId: k.id,
    unitKey: k.unitKey,
    createdTs: ctx.now,
    dueTs: ctx.now + ctx.cfg.complaints.measurementDueH * HOUR_MS,
    state: 'pending',
  };
  ch.tasks.push(t);
  note(k, 'task', 'households', ctx, ch, `measurement task ${t.id}`);
  if (k.state !== 'measuring')
    move(k, 'measuring', 'households', ctx, ch, 'two staff to measure in the home');
  return t;
}

/** Whether a measurement is still the unit's reference (it outweighs the sensor for a while). */
export const referenceInForce = (m: Measurement | undefined, ctx: Ctx): boolean =>
  m !== undefined && ctx.now < m.ts + ctx.cfg.measurements.referenceH * HOUR_MS;

/**
 * A sensor reading of a unit with an open case: at or above the required temperature the watch
 * starts (unless a measurement task is still to be done: the household's word needs a measurement);
 * below it, a watch in progress fails and the case goes back to where it was.
 */
export function onSensorReading(
  k: HouseholdCase,
  tempC: number,
  pendingTask: boolean,
  reference: Measurement | undefined,
  ctx: Ctx,
  ch: Changes,
): void {
  k.lastTempC = tempC;
  if (referenceInForce(reference, ctx)) return;
  if (tempC >= ctx.requiredTempC) {
    if (!pendingTask && ['open', 'fixing', 'escalated'].includes(k.state))
      move(k, 'watching', 'sensor', ctx, ch, `sensor ${tempC.toFixed(1)} °C ≥ ${ctx.requiredTempC} °C`);
  } else if (k.state === 'watching') {
    move(k, k.resumeState ?? 'open', 'sensor', ctx, ch, `sensor ${tempC.toFixed(1)} °C during the watch`);
  }
}

/**
 * A two-person measurement: at or above the required temperature it closes the task and starts the
 * watch; below it closes nothing, escalates the case and (if configured) sends a work order type.
 * Returns the work-order type to send, if any.
 */
export function onMeasurement(
  k: HouseholdCase,
  m: Measurement,
  task: MeasurementTask | undefined,
  ctx: Ctx,
  ch: Changes,
): string | undefined {
  const ok = m.tempC >= ctx.requiredTempC;
  k.lastTempC = m.tempC;
  note(k, 'measurement', m.recordedBy, ctx, ch, `${m.tempC.toFixed(1)} °C by ${m.measuredBy.join(' and ')}`);
  if (task && (task.state === 'pending' || task.state === 'overdue')) {
    task.state = ok ? 'done' : 'escalated';
    task.measurementId = m.id;
    task.doneTs = ctx.now;
    ch.tasks.push(task);
  }
  if (ok) {
    if (k.state === 'watching') return undefined;
    move(k, 'watching', m.recordedBy, ctx, ch, `measured ${m.tempC.toFixed(1)} °C ≥ ${ctx.requiredTempC} °C`);
    // The watch runs from the measurement, not from when it was typed in.
    k.watchUntilTs = m.ts + ctx.cfg.cases.watchH * HOUR_MS;
    return undefined;
  }
  escalate(k, m.recordedBy, ctx, ch, `measured ${m.tempC.toFixed(1)} °C < ${ctx.requiredTempC} °C`);
  return ctx.cfg.workOrders.onColdMeasurement;
}

/**
 * The periodic check: overdue tasks escalate their case to level 1, overdue cases climb the ladder,
 * and a watch that held (with the household called back after any repair) closes the case.
 * Returns the ids of cases that closed.
 */
export function checkDue(cases: HouseholdCase[], tasks: MeasurementTask[], ctx: Ctx, ch: Changes): string[] {
  const byId = new Map(cases.map((k) => [k.id, k]));
  for (const t of tasks) {
    if (t.state !== 'pending' || t.dueTs > ctx.now) continue;
    t.state = 'overdue';
    ch.tasks.push(t);
    const k = byId.get(t.caseId);
    if (k)
      escalate(k, 'households', ctx, ch, `measurement task ${t.id} overdue`, Math.max(1, k.escalationLevel));
  }
  const closed: string[] = [];
  const levels = ctx.cfg.cases.escalation;
  for (const k of cases) {
    if (k.state === 'watching') {
      if (k.watchUntilTs !== undefined && k.watchUntilTs <= ctx.now && !k.callbackPending) {
        move(k, 'closed', 'households', ctx, ch, 'held the required temperature for the watch period');
        closed.push(k.id);
      }
      continue;
    }
    if (k.state === 'closed') continue;
    const next = levels[k.escalationLevel];
    if (next && ctx.now >= k.dueTs + next.afterOverdueH * HOUR_MS)
      escalate(k, 'households', ctx, ch, 'case overdue');
  }
  return closed;
}
