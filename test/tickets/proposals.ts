import type { Proposal } from '../../src/tickets/types.ts';

/** A cold substation's proposal to raise its supply offset by `deltaC` (the tickets tests' usual case). */
export const substationProposal = (substationId: string, deltaC = 2, ts = 0): Proposal => ({
  problem: 'substation_cold',
  targetKind: 'substation',
  targetId: substationId,
  substationId,
  rules: ['substation-under-temp'],
  summary: `${substationId} cold`,
  evidence: {},
  action: { kind: 'supply-offset', deltaC },
  predicted: { deltaC: 0.7, expectedC: 18.5, afterH: 12, text: 'about +0.7 °C' },
  baseline: { valueC: 17.2, ts },
  autoApprovable: false,
});
