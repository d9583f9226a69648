import { HwError } from '../core/errors.ts';
import { type Ctx, move, note } from './cases.ts';
import type { Changes, HouseholdCase, WorkOrder, WorkOrderState } from './types.ts';

const MIN_MS = 60_000;

/** The field app's answers and the order each may follow (docs/households.md "Work orders"). */
const FIELD_NEXT: Record<WorkOrderState, readonly WorkOrderState[]> = {
  sent: ['accepted', 'on_site'],
  accepted: ['on_site'],
  on_site: ['done'],
  done: [],
  called_back: [],
};
export type FieldStatus = 'accepted' | 'on_site' | 'done';

/** The response-time target of an order type, in minutes (config), else the strictest configured. */
export function onSiteTargetMin(type: string, ctx: Ctx): number {
  const t = ctx.cfg.workOrders.onSiteTargetMin;
  return t[type] ?? Math.min(...Object.values(t));
}

/** A work order for the repair crew, put in the outbox in the same transaction as the case move. */
export function newWorkOrder(
  k: HouseholdCase | undefined,
  at: { buildingId: string; substationId: string; unitKey?: string; ticketId?: string },
  type: string,
  summary: string,
  actor: string,
  ctx: Ctx,
  ch: Changes,
): WorkOrder {
  const wo: WorkOrder = {
    id: ctx.newId('wo'),
    caseId: k?.id,
    ticketId: at.ticketId,
    type,
    unitKey: at.unitKey ?? k?.unitKey,
    buildingId: at.buildingId,
    substationId: at.substationId,
    createdTs: ctx.now,
    onSiteDueTs: ctx.now + onSiteTargetMin(type, ctx) * MIN_MS,
    state: 'sent',
    late: false,
    summary,
  };
  ch.workOrders.push(wo);
  ch.outbox.push({ kind: 'work_order', body: workOrderMessage(wo) });
  if (k) {
    note(k, 'work_order', actor, ctx, ch, `${type} order ${wo.id} sent: ${summary}`);
    if (k.state !== 'fixing') move(k, 'fixing', actor, ctx, ch, `${type} order ${wo.id}`);
  }
  return wo;
}

/** The JSON the repair crew's app receives (the work-order contract in docs/households.md). */
export const workOrderMessage = (wo: WorkOrder) => ({
  workOrderId: wo.id,
  type: wo.type,
  caseId: wo.caseId,
  ticketId: wo.ticketId,
  unit: wo.unitKey,
  buildingId: wo.buildingId,
  substationId: wo.substationId,
  summary: wo.summary,
  createdAt: new Date(wo.createdTs).toISOString(),
  onSiteBy: new Date(wo.onSiteDueTs).toISOString(),
});

/** The field app's status; a status that does not follow the order's state is refused (409). */
export function fieldStatus(
  wo: WorkOrder,
  k: HouseholdCase | undefined,
  status: FieldStatus,
  detail: { note?: string; photoRef?: string },
  actor: string,
  ctx: Ctx,
  ch: Changes,
): void {
  if (!FIELD_NEXT[wo.state].includes(status))
    throw new HwError(
      'HW_ERR_WORK_ORDER_STATE',
      409,
      `Work order ${wo.id} is ${wo.state}; '${status}' does not follow.`,
    );
  if ((detail.note?.length ?? 0) > ctx.cfg.workOrders.maxNoteChars)
    throw new HwError(
      'HW_ERR_BAD_REQUEST',
      400,
      `body.note: longer than ${ctx.cfg.workOrders.maxNoteChars} characters`,
      'body.note',
    );
  if (status === 'done' && (!detail.note || !detail.photoRef))
    throw new HwError(
      'HW_ERR_BAD_REQUEST',
      400,
      'body: done needs a note and a proof photo reference',
      'body',
    );
  wo.state = status;
  if (status === 'accepted') wo.acceptedTs = ctx.now;
  if (status === 'on_site') {
    wo.onSiteTs = ctx.now;
    if (ctx.now > wo.onSiteDueTs) wo.late = true;
  }
  if (status === 'done') {
    wo.doneTs = ctx.now;
    wo.note = detail.note;
    wo.photoRef = detail.photoRef;
  }
  ch.workOrders.push(wo);
  if (k) {
    const late = status === 'on_site' && wo.late ? ' (late)' : '';
    note(
      k,
      `work_order_${status}`,
      actor,
      ctx,
      ch,
      `${wo.id}${late}${detail.note ? `: ${detail.note}` : ''}`,
    );
    if (status === 'done') k.callbackPending = true;
  }
}

/** Flags orders whose crew is not on site by the target (the bulletin and the digest count them). */
export function flagLate(orders: WorkOrder[], ctx: Ctx, ch: Changes): void {
  for (const wo of orders)
    if (!wo.late && (wo.state === 'sent' || wo.state === 'accepted') && ctx.now > wo.onSiteDueTs) {
      wo.late = true;
      ch.workOrders.push(wo);
    }
}

/**
 * The service centre's call-back after the repair (docs/domain.md): required before the case closes. An
 * unsatisfied household sends the case back to fixing.
 */
export function callBack(
  wo: WorkOrder,
  k: HouseholdCase | undefined,
  cb: { result: string; satisfied: boolean },
  actor: string,
  ctx: Ctx,
  ch: Changes,
  otherDoneOrders: number,
): void {
  if (wo.state !== 'done')
    throw new HwError(
      'HW_ERR_WORK_ORDER_STATE',
      409,
      `Work order ${wo.id} is ${wo.state}; call back after it is done.`,
    );
  wo.state = 'called_back';
  wo.callback = { ts: ctx.now, by: actor, result: cb.result, satisfied: cb.satisfied };
  ch.workOrders.push(wo);
  if (!k) return;
  k.callbackPending = otherDoneOrders > 0;
  note(k, 'callback', actor, ctx, ch, `${cb.satisfied ? 'satisfied' : 'NOT satisfied'}: ${cb.result}`);
  if (!cb.satisfied && k.state === 'watching')
    move(k, 'fixing', actor, ctx, ch, 'household not satisfied at call-back');
}
