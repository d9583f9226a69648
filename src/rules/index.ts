import { buildingOverTemp } from './building-over-temp.ts';
import { buildingUnderTemp } from './building-under-temp.ts';
import { classUnderTemp } from './class-under-temp.ts';
import { coldSpell } from './cold-spell.ts';
import { coverage } from './coverage.ts';
import { estateWarm } from './estate-warm.ts';
import { imbalanceBetween } from './imbalance-between.ts';
import { imbalanceInside } from './imbalance-inside.ts';
import { sensorHealth } from './sensor-health.ts';
import { supplyTracking } from './supply-tracking.ts';
import type { RuleNode } from './types.ts';
import { unitOverTemp } from './unit-over-temp.ts';
import { unitUnderTemp } from './unit-under-temp.ts';

/** Every rule the engine runs; adding a rule is adding a row. Sensor health runs first (exclusions). */
export const RULES: readonly RuleNode[] = [
  sensorHealth,
  unitUnderTemp,
  unitOverTemp,
  buildingUnderTemp,
  classUnderTemp,
  buildingOverTemp,
  estateWarm,
  imbalanceInside,
  imbalanceBetween,
  coverage,
  coldSpell,
  supplyTracking,
];
