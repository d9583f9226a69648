import { Observations } from './observations.ts';
import type { RuleNode } from './types.ts';
import { round2 } from './view.ts';

/**
 * Implausible sensors: a value that has not moved for `stuckAfterH` (rooms always move by the
 * resolution), and a sudden fall between two readings that looks like an open window rather than a
 * heating fault (radiator-fed rooms cool over hours, not minutes). The engine leaves such units out of
 * the temperature rules while the condition lasts.
 */
export const sensorHealth: RuleNode = {
  id: 'sensor-health',
  meaning: {
    resolves: 'sensor_fault',
    // An open window is left out for its hold time; a stuck sensor for as long as it stays stuck.
    excludeSensorUntil: (o, now, cfg) =>
      o.evidence.kind === 'open-window' ? now + cfg.sensorHealth.openWindowHoldS * 1000 : now + 1,
  },
  enabled: (cfg) => cfg.sensorHealth.enabled,
  minDurationS: (cfg) => cfg.sensorHealth.minDurationS,
  evaluate(view, ctx) {
    const c = ctx.cfg.sensorHealth;
    const out = new Observations(ctx, this.id, 'unit');
    for (const b of ctx.buildings) {
      for (const s of ctx.sensors(b.id)) {
        if (s.tempC === undefined || s.ts === undefined || !view.isFresh(s, ctx.now)) continue;
        const stuckH = s.unchangedSince === undefined ? 0 : (ctx.now - s.unchangedSince) / 3_600_000;
        const dropC =
          s.prevTempC !== undefined && s.prevTs !== undefined && s.ts - s.prevTs <= c.dropWindowS * 1000
            ? s.prevTempC - s.tempC
            : 0;
        const stuck = stuckH >= c.stuckAfterH;
        const openWindow = dropC >= c.dropC;
        const level = stuck || openWindow ? 'raise' : 'clear';
        out.add(s.info.sensor.id, b.substationId, level, dropC, () => ({
          buildingId: b.id,
          kind: stuck ? 'stuck' : openWindow ? 'open-window' : 'ok',
          unchangedH: round2(stuckH),
          dropC: round2(dropC),
          stuckAfterH: c.stuckAfterH,
          dropThresholdC: c.dropC,
        }));
      }
    }
    return out.list;
  },
};
