import type { RulesConfig } from '../config/rules-schema.ts';
import type { Problem, Proposal, Ticket } from '../tickets/types.ts';
import type { Diagnosed } from './estate.ts';
import type { TicketPort } from './ports.ts';
import { coldLineC } from './types.ts';

/** Problems whose action moves the estate's supply temperature. */
export const SUPPLY_PROBLEMS: readonly Problem[] = ['substation_cold', 'curve_slope', 'overheat'];
/** Problems whose action takes heat away from an estate or a building. */
export const LOWERING_PROBLEMS: readonly Problem[] = ['overheat', 'building_overheat'];
/** Problems whose action moves one building's share of the flow. */
export const BUILDING_FLOW_PROBLEMS: readonly Problem[] = ['building_cold', 'building_overheat'];

const HOUR_MS = 3_600_000;

/**
 * Building flow changes that go with a supply step settling on their estate wait for nothing: a
 * cold building's valve opening while the supply is raised, and an over-heated building's throttle
 * (the supply step is not for its warmth). Others wait for the step's re-check.
 */
const goesWith = (supply: Ticket, p: Proposal): boolean =>
  p.problem === 'building_overheat' || (supply.problem !== 'overheat' && p.problem === 'building_cold');

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

  async apply(diagnosed: Diagnosed[], report: PolicyReport): Promise<void> {
    const settling = await this.tickets.settling();
    // Buildings whose risers are the remedy (an open exposed_cold task): their valve is not.
    const risers = new Set(
      (await this.tickets.list({ status: 'open', problem: 'exposed_cold' })).map((t) => t.targetId),
    );
    for (const d of diagnosed) {
      const checked =
        d.proposal.problem === 'building_cold' && risers.has(d.proposal.targetId)
          ? `riser task open on ${d.proposal.targetId}: its entry valve is not the remedy`
          : this.settlingConflict(d.proposal, settling);
      if (typeof checked === 'string') {
        await this.tickets.noteSuppressed(d.proposal.targetId, d.proposal.problem, checked);
        report.suppressed.push({
          targetId: d.proposal.targetId,
          problem: d.proposal.problem,
          reason: checked,
        });
        continue;
      }
      if (this.isRepeat(checked, d.flapping, report.ts)) continue;
      await this.send(checked, d.flapping, report);
    }
  }

  /**
   * Whether a proposal would contradict an adjustment still settling (issue #20 item 2): a building
   * flow change while the estate's supply settles; throttling or lowering while a pre-heat is in
   * force (its warmth is intended); a valve moved back the other way before its re-check. Returns the
   * reason, or the proposal (a building below the line may have its own throttle undone, no further).
   */
  private settlingConflict(p: Proposal, settling: readonly Ticket[]): Proposal | string {
    for (const t of settling) {
      if (t.substationId !== p.substationId) continue;
      if (
        SUPPLY_PROBLEMS.includes(t.problem) &&
        BUILDING_FLOW_PROBLEMS.includes(p.problem) &&
        !goesWith(t, p)
      )
        return `estate supply adjustment ${t.id} settling until its re-check`;
      if (t.problem === 'cold_spell' && LOWERING_PROBLEMS.includes(p.problem))
        return `pre-heat ${t.id} in force: the extra warmth is intended`;
    }
    if (p.action.kind !== 'valves') return p;
    const valves = { ...p.action.valves };
    for (const t of settling) {
      if (t.action.kind !== 'valves') continue;
      for (const [b, to] of Object.entries(valves)) {
        const was = t.action.previous[b];
        const set = t.action.valves[b];
        if (was === undefined || set === undefined) continue;
        const before = p.action.previous[b] ?? set;
        if (Math.sign(to - before) * Math.sign(set - was) >= 0) continue;
        const belowLine = p.problem === 'building_cold' && p.baseline.valueC < coldLineC(this.cfg());
        if (!belowLine)
          return `contradicts ${t.id} on ${b} (valve ${was} → ${set} %), settling until its re-check`;
        // Cold below the line after our own throttle: undo it, but no further until the re-check.
        valves[b] = Math.min(to, was);
      }
    }
    return { ...p, action: { ...p.action, valves } };
  }

  /** A repeat within refreshS changes nothing the ticket store would keep: skip the round trip. */
  private isRepeat(p: Proposal, flapping: boolean, now: number): boolean {
    const key = `${p.targetId}|${p.problem}`;
    const last = this.lastProposed.get(key);
    if (last && last.flapping === flapping && now - last.ts < this.cfg().recheck.refreshS * 1000) return true;
    this.lastProposed.set(key, { ts: now, flapping });
    return false;
  }

  private async send(proposal: Proposal, flapping: boolean, report: PolicyReport): Promise<void> {
    const p = (await this.tickets.openFor(proposal.targetId, proposal.problem))
      ? proposal
      : await this.withParent(proposal);
    const r = await this.tickets.propose(p, { flapping });
    if (r.outcome === 'created') {
      report.created.push(r.ticket.id);
      await this.supersedeWrongRemedies(p, r.ticket.id);
    } else if (r.outcome === 'updated') report.updated++;
    else if (r.outcome === 'suppressed') {
      report.suppressed.push({
        targetId: p.targetId,
        problem: p.problem,
        reason: r.ticket.suppressedReason ?? 'settling',
      });
      await this.judgeEarly(r.ticket, p, report.ts);
    }
  }

  /**
   * The condition an applied step was meant to end persists after the response time it predicted
   * (the learnt lag): the step was too small, so it is judged now, and the next step follows its
   * re-check, instead of leaving the flats cold until the scheduled re-check (`recheckAfterH`).
   * Field tasks wait for people, and a pre-heat for its spell.
   */
  private async judgeEarly(t: Ticket, p: Proposal, now: number): Promise<void> {
    if (t.appliedTs === undefined || t.action.kind === 'field' || t.action.kind === 'preheat') return;
    const afterMs = Math.max(t.predicted.afterH, this.cfg().recheck.windowH) * HOUR_MS;
    if (now - t.appliedTs < afterMs) return;
    await this.tickets.advanceRecheck(
      t.id,
      now,
      `still ${p.problem} ${Math.round((now - t.appliedTs) / HOUR_MS)} h after the step (predicted response ${t.predicted.afterH} h): judged now so the next step can follow`,
    );
  }

  private async supersedeWrongRemedies(p: Proposal, newId: string): Promise<void> {
    // Exposed units only: a waiting valve proposal for the same building was the wrong remedy.
    if (p.problem === 'exposed_cold') {
      const wrong = await this.tickets.openFor(p.targetId, 'building_cold');
      if (wrong) await this.tickets.supersede(wrong.id, 'rules', `only exposed units are cold: ${newId}`);
    }
    if (p.problem === 'substation_cold' || p.problem === 'curve_slope')
      // A waiting throttle of an over-heated building stays right whatever the supply does.
      for (const t of await this.tickets.list({ status: 'open', substationId: p.substationId }))
        if (t.problem === 'building_cold')
          await this.tickets.supersede(t.id, 'rules', `superseded by estate-wide ${newId}`);
  }

  /** Links a repeat of an escalated problem to its parent; past the escalation limit a person decides. */
  private async withParent(p: Proposal): Promise<Proposal> {
    // Only a chain that ended escalated continues; one that was resolved since starts afresh.
    const prev = (await this.tickets.list({ targetId: p.targetId, problem: p.problem })).pop();
    if (prev?.status !== 'escalated') return p;
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
