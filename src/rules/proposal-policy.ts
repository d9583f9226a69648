import type { RulesConfig } from '../config/rules-schema.ts';
import type { Problem, Proposal, Ticket } from '../tickets/types.ts';
import type { Diagnosed } from './estate.ts';
import type { TicketPort } from './ports.ts';

/** Problems whose action moves the estate's supply temperature. */
export const SUPPLY_PROBLEMS: readonly Problem[] = ['substation_cold', 'curve_slope', 'overheat'];
/** Problems whose action moves one building's share of the flow. */
export const BUILDING_FLOW_PROBLEMS: readonly Problem[] = ['building_cold', 'building_overheat'];

export interface PolicyReport {
  ts: number;
  created: string[];
  updated: number;
  suppressed: Array<{ targetId: string; problem: Problem; reason: string }>;
}

/**
 * Proposal policy: what becomes of a diagnosed proposal. Building flow changes wait while a supply
 * change on their estate settles; a repeat within `recheck.refreshS` is not sent again; a new
 * estate-wide or exposed-units ticket supersedes the waiting building tickets it makes wrong; a repeat
 * of an escalated problem is linked to its parent and, past `maxEscalations`, becomes a field task.
 */
export class ProposalPolicy {
  /** When each (target, problem) was last handed to the ticket store. */
  private readonly lastProposed = new Map<string, { ts: number; flapping: boolean }>();

  constructor(
    private readonly tickets: TicketPort,
    private readonly cfg: () => RulesConfig,
  ) {}

  /** Forget what was sent, so the next round goes through at once (after an escalation). */
  reset(): void {
    this.lastProposed.clear();
  }

  apply(diagnosed: Diagnosed[], report: PolicyReport): void {
    const settlingSupply = new Map<string, Ticket>();
    for (const t of this.tickets.settling())
      if (SUPPLY_PROBLEMS.includes(t.problem)) settlingSupply.set(t.substationId, t);
    for (const { proposal, flapping } of diagnosed) {
      const blocking = settlingSupply.get(proposal.substationId);
      if (blocking && BUILDING_FLOW_PROBLEMS.includes(proposal.problem)) {
        const reason = `estate supply adjustment ${blocking.id} settling until its re-check`;
        this.tickets.noteSuppressed(proposal.targetId, proposal.problem, reason);
        report.suppressed.push({ targetId: proposal.targetId, problem: proposal.problem, reason });
        continue;
      }
      if (this.isRepeat(proposal, flapping, report.ts)) continue;
      this.send(proposal, flapping, report);
    }
  }

  /** A repeat within refreshS changes nothing the ticket store would keep: skip the round trip. */
  private isRepeat(p: Proposal, flapping: boolean, now: number): boolean {
    const key = `${p.targetId}|${p.problem}`;
    const last = this.lastProposed.get(key);
    if (last && last.flapping === flapping && now - last.ts < this.cfg().recheck.refreshS * 1000) return true;
    this.lastProposed.set(key, { ts: now, flapping });
    return false;
  }

  private send(proposal: Proposal, flapping: boolean, report: PolicyReport): void {
    const p = this.tickets.openFor(proposal.targetId, proposal.problem)
      ? proposal
      : this.withParent(proposal);
    const r = this.tickets.propose(p, { flapping });
    if (r.outcome === 'created') {
      report.created.push(r.ticket.id);
      this.supersedeWrongRemedies(p, r.ticket.id);
    } else if (r.outcome === 'updated') report.updated++;
    else if (r.outcome === 'suppressed')
      report.suppressed.push({
        targetId: p.targetId,
        problem: p.problem,
        reason: r.ticket.suppressedReason ?? 'settling',
      });
  }

  private supersedeWrongRemedies(p: Proposal, newId: string): void {
    // Exposed units only: a waiting valve proposal for the same building was the wrong remedy.
    if (p.problem === 'exposed_cold') {
      const wrong = this.tickets.openFor(p.targetId, 'building_cold');
      if (wrong) this.tickets.supersede(wrong.id, 'rules', `only exposed units are cold: ${newId}`);
    }
    if (p.problem === 'substation_cold' || p.problem === 'curve_slope')
      for (const t of this.tickets.list({ status: 'open', substationId: p.substationId }))
        if (BUILDING_FLOW_PROBLEMS.includes(t.problem))
          this.tickets.supersede(t.id, 'rules', `superseded by estate-wide ${newId}`);
  }

  /** Links a repeat of an escalated problem to its parent; past the escalation limit a person decides. */
  private withParent(p: Proposal): Proposal {
    const prev = this.tickets
      .list({ targetId: p.targetId, problem: p.problem })
      .filter((t) => t.status === 'escalated')
      .pop();
    if (!prev) return p;
    const escalations = (prev.escalations ?? 0) + 1;
    if (escalations > this.cfg().recheck.maxEscalations && p.action.kind !== 'field') {
      const task = `${p.targetId}: ${escalations - 1} adjustments did not bring it back in band; needs an engineer on site (${p.summary})`;
      return {
        ...p,
        parentId: prev.id,
        escalations,
        summary: task,
        action: { kind: 'field', task },
        autoApprovable: false,
      };
    }
    return { ...p, parentId: prev.id, escalations };
  }
}
