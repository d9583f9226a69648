import type { TicketStatus } from './types.ts';

/**
 * The ticket state machine (docs/rules.md "Tickets"), the one place that says which action may move
 * a ticket from which status to which:
 *
 *   proposed → approved → applied → rechecking → resolved | escalated
 *   proposed | approved → rejected | superseded
 *   applied | rechecking → resolved (closed by an operator before its re-check)
 *
 * `apply` needs an approved ticket: the approval step (by an operator, or by the auto-approve policy)
 * cannot be skipped. TicketService asks this table inside the transaction that writes the change,
 * and the HTTP API offers a ticket exactly the operator actions it allows.
 */
export type TicketAction =
  | 'approve'
  | 'apply'
  | 'reject'
  | 'close'
  | 'supersede'
  | 'start-recheck'
  | 'resolve'
  | 'escalate';

/** What an operator can do through the API; the rest are the rules engine's and the re-check's. */
export type OperatorAction = Extract<TicketAction, 'approve' | 'apply' | 'reject' | 'close'>;
export const OPERATOR_ACTIONS: readonly OperatorAction[] = ['approve', 'apply', 'reject', 'close'];

export const TICKET_ACTIONS: readonly TicketAction[] = [
  ...OPERATOR_ACTIONS,
  'supersede',
  'start-recheck',
  'resolve',
  'escalate',
];

export const TICKET_STATUSES: readonly TicketStatus[] = [
  'proposed',
  'approved',
  'applied',
  'rechecking',
  'resolved',
  'escalated',
  'rejected',
  'superseded',
];

const TRANSITIONS: Record<TicketAction, { from: readonly TicketStatus[]; to: TicketStatus }> = {
  approve: { from: ['proposed'], to: 'approved' },
  apply: { from: ['approved'], to: 'applied' },
  reject: { from: ['proposed', 'approved'], to: 'rejected' },
  supersede: { from: ['proposed', 'approved'], to: 'superseded' },
  close: { from: ['applied', 'rechecking'], to: 'resolved' },
  'start-recheck': { from: ['applied'], to: 'rechecking' },
  resolve: { from: ['rechecking'], to: 'resolved' },
  escalate: { from: ['rechecking'], to: 'escalated' },
};

/** The status `action` leads to from `from`, or undefined when the action is not allowed there. */
export function nextStatus(from: TicketStatus, action: TicketAction): TicketStatus | undefined {
  const t = TRANSITIONS[action];
  return t.from.includes(from) ? t.to : undefined;
}

/** The statuses an action may start from (for the 409 message). */
export function startsFrom(action: TicketAction): readonly TicketStatus[] {
  return TRANSITIONS[action].from;
}

/** The operator actions a ticket in `status` offers (the dashboard's buttons). */
export function operatorActions(status: string): OperatorAction[] {
  return OPERATOR_ACTIONS.filter((a) => (TRANSITIONS[a].from as readonly string[]).includes(status));
}
