import type { RulesConfig } from '../config/rules-schema.ts';
import type { TicketTx } from './ticket-tx.ts';
import { type Proposal, SETTLING_STATUSES, type Ticket } from './types.ts';

export type ProposeResult =
  | { outcome: 'created' | 'updated'; ticket: Ticket }
  | { outcome: 'suppressed' | 'flapping'; ticket: Ticket };

/**
 * What a proposal becomes, inside its transaction (TicketService.propose): a new ticket (auto-approved
 * when the policy allows), a refresh of the open one, a counted suppression while an adjustment
 * settles, or — flapping with nothing open — nothing (undefined).
 */
export async function proposeIn(
  tx: TicketTx,
  p: Proposal,
  flapping: boolean,
  now: number,
  cfg: RulesConfig,
): Promise<ProposeResult | undefined> {
  const existing = await tx.store.openFor(p.targetId, p.problem);
  if (existing) return repeat(tx, existing, p, flapping, now, cfg);
  if (flapping) return undefined;
  const id = await tx.store.insert(p, now);
  await tx.store.event(id, now, 'created', 'rules', undefined, 'proposed', p.summary);
  tx.created(p, id);
  if (cfg.autoApprove.enabled && p.autoApprovable)
    await tx.transition(
      id,
      'approve',
      'auto',
      'small, safe action: auto-approve policy (rules.autoApprove)',
      {
        autoApply: true,
      },
    );
  return { outcome: 'created', ticket: (await tx.store.ticket(id))! };
}

/** The same condition again while its ticket is open. */
async function repeat(
  tx: TicketTx,
  existing: Ticket,
  p: Proposal,
  flapping: boolean,
  now: number,
  cfg: RulesConfig,
): Promise<ProposeResult> {
  if (SETTLING_STATUSES.includes(existing.status)) {
    const reason = `settling until the re-check at ${new Date(existing.recheckDueTs ?? now).toISOString()}`;
    await tx.store.saveBody(existing.id, {
      ...existing,
      suppressedCount: existing.suppressedCount + 1,
      lastSuppressedTs: now,
      suppressedReason: reason,
    });
    // The first suppression is written to the history; later ones only count.
    if (existing.suppressedCount === 0)
      await tx.store.event(
        existing.id,
        now,
        'suppressed',
        'rules',
        existing.status,
        existing.status,
        `condition persists; ${reason}`,
      );
    return { outcome: 'suppressed', ticket: (await tx.store.ticket(existing.id))! };
  }
  if (now - existing.updatedTs < cfg.recheck.refreshS * 1000 && existing.flapping === flapping)
    return { outcome: 'updated', ticket: existing };
  const next: Ticket = {
    ...existing,
    ...p,
    parentId: existing.parentId ?? p.parentId,
    escalations: existing.escalations ?? p.escalations,
    occurrences: existing.occurrences + 1,
    flapping,
    updatedTs: now,
    // An auto-approved step that grew beyond the policy keeps the step it was approved for.
    ...(keepsApprovedStep(existing, p, cfg)
      ? {
          action: existing.action,
          predicted: existing.predicted,
          summary: existing.summary,
          autoApprovable: true,
        }
      : {}),
  };
  await tx.store.saveBody(existing.id, next, now, p.notBeforeTs);
  // The auto-approve policy judged again whenever a waiting proposal changes (issue #20 item 3): a
  // proposal refreshed into the limits is approved now.
  if (existing.status === 'proposed' && cfg.autoApprove.enabled && p.autoApprovable)
    await tx.transition(
      existing.id,
      'approve',
      'auto',
      `proposal changed to a small, safe action: ${p.summary}`,
      {
        autoApply: true,
      },
    );
  if (existing.flapping !== next.flapping)
    await tx.store.event(
      existing.id,
      now,
      next.flapping ? 'flapping' : 'steady',
      'rules',
      existing.status,
      existing.status,
      next.flapping ? 'condition flips too often; not raised again while it flaps' : 'condition steady again',
    );
  return { outcome: flapping ? 'flapping' : 'updated', ticket: (await tx.store.ticket(existing.id))! };
}

/** An auto-approved ticket whose refreshed proposal is beyond the policy: the approved step stays. */
function keepsApprovedStep(existing: Ticket, p: Proposal, cfg: RulesConfig): boolean {
  return (
    existing.status === 'approved' && existing.autoApply && !(cfg.autoApprove.enabled && p.autoApprovable)
  );
}
