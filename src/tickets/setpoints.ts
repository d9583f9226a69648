import type { RulesConfig } from '../config/rules-schema.ts';
import type { Action, SetpointInForce, SetpointPayload } from './types.ts';

/** The setpoint in force after an action, clamped to the configured limits. */
export function nextSetpoint(before: SetpointInForce, action: Action, cfg: RulesConfig): SetpointInForce {
  const l = cfg.limits;
  const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
  const after: SetpointInForce = structuredClone(before);
  switch (action.kind) {
    case 'supply-offset':
      after.supplyOffsetC = clamp(before.supplyOffsetC + action.deltaC, l.minOffsetC, l.maxOffsetC);
      break;
    case 'slope':
      after.slopeDelta = clamp(before.slopeDelta + action.delta, -l.maxSlopeDelta, l.maxSlopeDelta);
      break;
    case 'valves':
      for (const [b, pct] of Object.entries(action.valves))
        after.buildingValves[b] = clamp(pct, l.minValvePct, l.maxValvePct);
      break;
    case 'preheat':
      after.preheatOffsetC = clamp(action.offsetC, 0, l.maxOffsetC);
      break;
    case 'field':
      break;
  }
  return after;
}

/** The id of a ticket's command: one apply and at most one revert per ticket, so it is stable. */
export const commandIdOf = (ticketId: string, why: 'apply' | 'revert'): string => `${ticketId}-${why}`;

export function toPayload(
  setpointId: string,
  ticketId: string,
  sp: SetpointInForce,
  ts: number,
): SetpointPayload {
  const payload: SetpointPayload = {
    setpointId,
    ticketId,
    supplyOffset: Math.round((sp.supplyOffsetC + sp.preheatOffsetC) * 100) / 100,
    // Absolute semantics: the slope change in force is always sent, so a return to 0 reaches the controller.
    slopeDelta: Math.round(sp.slopeDelta * 1000) / 1000,
    ts,
  };
  if (Object.keys(sp.buildingValves).length > 0) payload.buildingValves = { ...sp.buildingValves };
  return payload;
}
