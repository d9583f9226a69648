import { randomBytes } from 'node:crypto';
import type { HouseholdsConfig } from '../config/households-schema.ts';
import type { Clock } from '../core/clock.ts';
import { HwError } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { RoomReading } from '../core/readings.ts';
import type { RegistryIndex } from '../core/registry.ts';
import { biasAlert, biasOf, caseDetail, type SensorBias } from './bias.ts';
import {
  type Ctx,
  checkDue,
  newTask,
  note,
  onMeasurement,
  onSensorReading,
  openOrJoin,
  touch,
} from './cases.ts';
import { type ComplaintInput, checkTime, type MeasurementInput, resolveUnit, twoNames } from './intake.ts';
import { decideAgain, type HouseholdsStore } from './store.ts';
import {
  type Changes,
  type Complaint,
  type HouseholdCase,
  type Measurement,
  noChanges,
  OPEN_CASE_STATES,
  unitKey,
  type WorkOrder,
} from './types.ts';
import { callBack, type FieldStatus, fieldStatus, flagLate, newWorkOrder } from './work-orders.ts';

export type { ComplaintInput, MeasurementInput };

export interface HouseholdDeps {
  store: HouseholdsStore;
  clock: Clock;
  cfg: () => HouseholdsConfig;
  requiredTempC: () => number;
  index: () => RegistryIndex;
  /** The unit's current sensor value, for the measurement's comparison (bias). */
  sensorTempC?: (sensorId: string) => number | undefined;
  bus?: EventBus<HeatEvents>;
  log: Logger;
  /** Open tickets on a building or its substation: a new case starts linked to them. */
  openTickets?: (buildingId: string, substationId: string) => Promise<string[]>;
  /** A ticket whose action is a field task (the crew must go), or undefined for any other ticket. */
  fieldTask?: (
    ticketId: string,
  ) =>
    | { targetId: string; substationId: string; summary: string }
    | undefined
    | Promise<{ targetId: string; substationId: string; summary: string } | undefined>;
}

/**
 * Households: cases, complaints, measurement tasks and work orders. Every decision is made by the
 * pure functions of cases.ts / work-orders.ts and committed through the store port in one
 * transaction; calls run one at a time, so two requests never decide on the same stale case. A
 * decision another instance on the same database got ahead of (it opened the unit's case, or changed
 * a record read here) is made again on what that instance wrote: the call joins that case or finds
 * its work done, so two instances' due checks escalate a case once (docs/households.md).
 */
export class HouseholdService {
  private chain: Promise<unknown> = Promise.resolve();
  /** Open cases by the room sensor of their unit, for the readings path. */
  private readonly bySensor = new Map<string, string>();

  constructor(private readonly d: HouseholdDeps) {}

  /** Loads the open cases' sensors (cases live in the store, so they survive a restart). */
  async start(): Promise<void> {
    this.indexSensors(await this.d.store.listCases({ states: OPEN_CASE_STATES }));
  }

  /** The open cases' sensors as stored (at start, each due check): also those other instances opened. */
  private indexSensors(open: readonly HouseholdCase[]): void {
    this.bySensor.clear();
    for (const k of open) if (k.sensorId) this.bySensor.set(k.sensorId, k.id);
  }

  private ctx(): Ctx {
    return {
      cfg: this.d.cfg(),
      requiredTempC: this.d.requiredTempC(),
      now: this.d.clock.now(),
      newId: (p) => `${p}-${randomBytes(5).toString('hex')}`,
    };
  }

  /** Resolves once every call made so far has finished (tests, orderly stop). */
  async idle(): Promise<void> {
    await this.chain;
  }

  /** Runs `fn` after every earlier call (again if another instance got ahead); commits its changes. */
  private run<T>(fn: (ctx: Ctx, ch: Changes) => Promise<T>): Promise<T> {
    const attempt = (left: number): Promise<T> =>
      this.decide(fn).catch((err: unknown) =>
        left > 1 && decideAgain(err) ? attempt(left - 1) : Promise.reject(err),
      );
    const next = this.chain.then(() => attempt(this.d.cfg().cases.decideAttempts));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async decide<T>(fn: (ctx: Ctx, ch: Changes) => Promise<T>): Promise<T> {
    const ctx = this.ctx();
    const ch = noChanges();
    const out = await fn(ctx, ch);
    for (const k of ch.cases)
      if (ch.events.some((e) => e.caseId === k.id && e.kind === 'opened'))
        k.ticketIds = (await this.d.openTickets?.(k.buildingId, k.substationId)) ?? k.ticketIds;
    if (Object.values(ch).some((list) => list.length > 0)) await this.d.store.commit(ch, ctx.now);
    for (const k of ch.cases)
      this.d.bus?.emit('caseChanged', {
        caseId: k.id,
        state: k.state,
        buildingId: k.buildingId,
        unitKey: k.unitKey,
        ts: ctx.now,
      });
    for (const a of ch.alerts) this.d.bus?.emit('alert', a);
    for (const k of ch.cases) {
      if (!k.sensorId) continue;
      if (k.state === 'closed') this.bySensor.delete(k.sensorId);
      else this.bySensor.set(k.sensorId, k.id);
    }
    return out;
  }

  /** The engine's unit-under-temp finding: a cold flat opens (or joins) its unit's case. */
  onUnitFinding(f: HeatEvents['unitFinding']): Promise<void> {
    return this.run(async (ctx, ch) => {
      const info = this.d.index().sensors.get(f.sensorId);
      if (!info) return;
      const unit = resolveUnit(this.d.index(), {
        buildingId: f.buildingId,
        floor: f.floor,
        column: f.column,
      });
      const existing = await this.d.store.openCaseByUnit(unitKey(unit));
      if (f.kind === 'cleared') {
        if (existing) note(existing, 'sensor_cleared', f.rule, ctx, ch, `${f.tempC.toFixed(1)} °C`);
        return;
      }
      const why = `cold ${f.tempC.toFixed(1)} °C since ${new Date(f.sinceTs).toISOString()} (${f.rule})`;
      const k = openOrJoin(existing, unit, 'sensor', f.rule, this.d.cfg().cases.defaultOwner, ctx, ch, why);
      k.lastTempC = f.tempC;
      if (k.state === 'watching') onSensorReading(k, f.tempC, false, undefined, ctx, ch);
    });
  }

  /** Sensor readings of units with open cases start or break their watch. */
  onRoomReadings(readings: readonly RoomReading[]): Promise<void> | undefined {
    const mine = readings.filter((r) => r.source !== 'manual' && this.bySensor.has(r.sensorId));
    if (mine.length === 0) return undefined;
    return this.run(async (ctx, ch) => {
      for (const r of mine) {
        const k = await this.d.store.getCase(this.bySensor.get(r.sensorId)!);
        if (!k || k.state === 'closed') continue;
        const pending = (await this.d.store.tasks({ caseId: k.id })).some(
          (t) => t.state === 'pending' || t.state === 'overdue',
        );
        const ms = await this.d.store.measurements({ unitKey: k.unitKey });
        onSensorReading(k, r.tempC, pending, ms.at(-1), ctx, ch);
        touch(k, ch);
      }
    });
  }

  /** A complaint; a temperature complaint opens or joins the case and wants a measurement task. */
  fileComplaint(input: ComplaintInput, actor: string) {
    return this.run(async (ctx, ch) => {
      const unit = resolveUnit(this.d.index(), input);
      const receivedTs = input.receivedTs ?? ctx.now;
      checkTime(receivedTs, ctx.now, ctx.cfg.measurements, 'body.receivedTs');
      const c: Complaint = {
        id: ctx.newId('cmp'),
        unitKey: unitKey(unit),
        buildingId: unit.buildingId,
        substationId: unit.substationId,
        floor: unit.floor,
        column: unit.column,
        receivedTs,
        channel: input.channel,
        cls: input.cls,
        caller: input.caller,
        text: input.text,
        takenBy: actor,
      };
      ch.complaints.push(c);
      ch.outbox.push({ kind: 'complaint', body: { ...c } });
      if (input.cls !== 'temperature') return { complaint: c };
      const existing = await this.d.store.openCaseByUnit(c.unitKey);
      const why = `${c.channel} complaint ${c.id}`;
      const k = openOrJoin(existing, unit, 'complaint', actor, actor, ctx, ch, why);
      k.complaints += 1;
      c.caseId = k.id;
      const tasks = existing ? await this.d.store.tasks({ caseId: k.id }) : [];
      const task = tasks.find((t) => t.state === 'pending' || t.state === 'overdue') ?? newTask(k, ctx, ch);
      return { complaint: c, case: k, task };
    });
  }

  /** A two-person in-home measurement: the unit's reference; closes or escalates the task. */
  recordMeasurement(input: MeasurementInput, actor: string) {
    return this.run(async (ctx, ch) => {
      const names = twoNames(input.measuredBy);
      checkTime(input.ts, ctx.now, ctx.cfg.measurements, 'body.ts');
      let task = input.taskId ? await this.d.store.getTask(input.taskId) : undefined;
      if (input.taskId && !task)
        throw new HwError('HW_ERR_NOT_FOUND', 404, `No measurement task '${input.taskId}'.`, 'body.taskId');
      const address =
        task && input.unit === undefined && input.buildingId === undefined ? { unit: task.unitKey } : input;
      const unit = resolveUnit(this.d.index(), address);
      if (task && task.unitKey !== unitKey(unit))
        throw new HwError(
          'HW_ERR_BAD_REQUEST',
          400,
          `body.taskId: task ${task.id} is for unit ${task.unitKey}`,
          'body.taskId',
        );
      const tempC =
        Math.round((input.rooms.reduce((s, r) => s + r.tempC, 0) / input.rooms.length) * 100) / 100;
      const m: Measurement = {
        id: ctx.newId('msr'),
        unitKey: unitKey(unit),
        buildingId: unit.buildingId,
        floor: unit.floor,
        column: unit.column,
        sensorId: unit.sensorId,
        ts: input.ts,
        rooms: input.rooms,
        tempC,
        measuredBy: names,
        sensorTempC: unit.sensorId ? this.d.sensorTempC?.(unit.sensorId) : undefined,
        recordedBy: actor,
        note: input.note,
      };
      let k = await this.d.store.openCaseByUnit(m.unitKey);
      if (!k && tempC < ctx.requiredTempC)
        k = openOrJoin(undefined, unit, 'measurement', actor, actor, ctx, ch, `measured ${tempC} °C`);
      if (k) {
        task ??= (await this.d.store.tasks({ caseId: k.id })).find(
          (t) => t.state === 'pending' || t.state === 'overdue',
        );
        m.caseId = k.id;
        m.taskId = task?.id;
        const orderType = onMeasurement(k, m, task, ctx, ch);
        if (orderType)
          newWorkOrder(
            k,
            { ...unit, unitKey: k.unitKey },
            orderType,
            `cold flat ${k.unitKey}: measured ${tempC} °C`,
            actor,
            ctx,
            ch,
          );
      }
      ch.measurements.push(m);
      const alert =
        m.sensorId &&
        biasAlert(m.sensorId, [...(await this.d.store.measurements({ sensorId: m.sensorId })), m], ctx);
      if (alert) ch.alerts.push(alert);
      return { measurement: m, case: k, task };
    });
  }

  /** A persistent difference between a sensor and the measurements beside it (°C, sensor − measured). */
  async sensorBias(sensorId: string): Promise<SensorBias | undefined> {
    return biasOf(sensorId, await this.d.store.measurements({ sensorId }), this.d.cfg().measurements);
  }

  /** Sends a work order for a case (operator) or for a ticket's building. */
  createWorkOrder(caseId: string, type: string, summary: string, actor: string) {
    return this.run(async (ctx, ch) => {
      const k = await this.caseOr404(caseId);
      if (k.state === 'closed') throw new HwError('HW_ERR_CASE_STATE', 409, `Case ${k.id} is closed.`);
      return newWorkOrder(k, { ...k }, type, summary, actor, ctx, ch);
    });
  }

  fieldStatus(id: string, status: FieldStatus, detail: { note?: string; photoRef?: string }, actor: string) {
    return this.run(async (ctx, ch) => {
      const wo = await this.orderOr404(id);
      const k = wo.caseId ? await this.d.store.getCase(wo.caseId) : undefined;
      fieldStatus(wo, k, status, detail, actor, ctx, ch);
      return wo;
    });
  }

  callBack(id: string, cb: { result: string; satisfied: boolean }, actor: string) {
    return this.run(async (ctx, ch) => {
      const wo = await this.orderOr404(id);
      const k = wo.caseId ? await this.d.store.getCase(wo.caseId) : undefined;
      const others = k
        ? (await this.d.store.workOrders({ caseId: k.id })).filter((w) => w.id !== id && w.state === 'done')
            .length
        : 0;
      callBack(wo, k, cb, actor, ctx, ch, others);
      return wo;
    });
  }

  /** Closes a complaint of another class (routed, not judged by the rules); the route audits `_actor`. */
  closeComplaint(id: string, _actor: string) {
    return this.run(async (ctx, ch) => {
      const c = (await this.d.store.complaints({})).find((x) => x.id === id);
      if (!c) throw new HwError('HW_ERR_NOT_FOUND', 404, `No complaint '${id}'.`, 'params.id');
      if (c.closedTs !== undefined)
        throw new HwError('HW_ERR_CONFLICT', 409, `Complaint ${id} is closed already.`);
      if (c.caseId)
        throw new HwError('HW_ERR_CONFLICT', 409, `Complaint ${id} closes with its case ${c.caseId}.`);
      c.closedTs = ctx.now;
      ch.complaints.push(c);
      return c;
    });
  }

  /**
   * Links a building or substation ticket to the open cases it concerns; an applied field-task
   * ticket sends its work order to the crew (once per ticket).
   */
  onTicket(t: HeatEvents['ticketChanged']): Promise<void> {
    return this.run(async (ctx, ch) => {
      const task = t.status === 'applied' ? await this.d.fieldTask?.(t.ticketId) : undefined;
      const sent =
        task &&
        (await this.d.store.workOrders({ fromTs: ctx.now - 30 * 86_400_000 })).some(
          (w) => w.ticketId === t.ticketId,
        );
      if (task && !sent) {
        const b = this.d.index().buildings.get(task.targetId);
        const at = {
          buildingId: b?.id ?? task.targetId,
          substationId: task.substationId,
          ticketId: t.ticketId,
        };
        newWorkOrder(undefined, at, ctx.cfg.workOrders.fromFieldTicket, task.summary, t.actor, ctx, ch);
      }
      for (const k of await this.d.store.listCases({ states: OPEN_CASE_STATES })) {
        if ((k.buildingId !== t.target && k.substationId !== t.target) || k.ticketIds.includes(t.ticketId))
          continue;
        k.ticketIds.push(t.ticketId);
        note(
          k,
          'ticket',
          t.actor,
          ctx,
          ch,
          `${t.problem} ticket ${t.ticketId} (${t.status}) concerns this unit`,
        );
      }
    });
  }

  /** The periodic check: overdue tasks and cases escalate, held watches close. */
  checkDue(): Promise<string[]> {
    return this.run(async (ctx, ch) => {
      const cases = await this.d.store.listCases({ states: OPEN_CASE_STATES });
      this.indexSensors(cases);
      const tasks = await this.d.store.tasks({ states: ['pending'] });
      const closed = checkDue(cases, tasks, ctx, ch);
      for (const id of closed)
        for (const c of await this.d.store.complaints({ caseId: id }))
          if (c.closedTs === undefined) ch.complaints.push({ ...c, closedTs: ctx.now });
      flagLate(await this.d.store.workOrders({ fromTs: ctx.now - 7 * 86_400_000 }), ctx, ch);
      return closed;
    });
  }

  private async orderOr404(id: string): Promise<WorkOrder> {
    const wo = await this.d.store.getWorkOrder(id);
    if (!wo) throw new HwError('HW_ERR_NOT_FOUND', 404, `No work order '${id}'.`, 'params.id');
    return wo;
  }

  private async caseOr404(id: string): Promise<HouseholdCase> {
    const k = await this.d.store.getCase(id);
    if (!k) throw new HwError('HW_ERR_NOT_FOUND', 404, `No case '${id}'.`, 'params.id');
    return k;
  }

  /** One case with everything that happened to it, for the Cases page. */
  async caseDetail(id: string) {
    const k = await this.caseOr404(id);
    const sensorC = k.sensorId ? this.d.sensorTempC?.(k.sensorId) : undefined;
    return caseDetail(this.d.store, k, sensorC, this.d.cfg());
  }
}
