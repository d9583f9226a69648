import type { RulesConfig } from '../../config/rules-schema.ts';
import type { ServiceConfig } from '../../config/service-schema.ts';
import { Errors } from '../../core/errors.ts';
import type { AuditLog } from '../audit.ts';
import type { LiveHub } from '../live-hub.ts';
import type { BuildingStateView, HttpDeps, TicketView } from '../ports.ts';

export interface RouteDeps extends HttpDeps {
  http: ServiceConfig['http'];
  rules: Pick<RulesConfig, 'requiredTempC' | 'toleranceC' | 'unitHot'>;
  buildingState: BuildingStateView;
  hub: LiveHub;
  audit: AuditLog;
}

/** Statuses after which a ticket no longer needs anyone. */
export const CLOSED_STATUSES = new Set([
  'closed',
  'rejected',
  'resolved',
  'expired',
  'superseded',
  'escalated',
]);

/** Open tickets per building and per substation, for the overview counts. */
export async function openTicketCounts(
  deps: RouteDeps,
): Promise<{ byBuilding: Map<string, number>; bySubstation: Map<string, number> }> {
  const byBuilding = new Map<string, number>();
  const bySubstation = new Map<string, number>();
  if (!deps.tickets) return { byBuilding, bySubstation };
  let list: TicketView[];
  try {
    list = await deps.tickets.list({});
  } catch {
    return { byBuilding, bySubstation };
  }
  for (const t of list) {
    if (CLOSED_STATUSES.has(t.status)) continue;
    const b = t.buildingId ?? (t.targetKind === 'building' ? t.targetId : undefined);
    if (b) byBuilding.set(b, (byBuilding.get(b) ?? 0) + 1);
    bySubstation.set(t.substationId, (bySubstation.get(t.substationId) ?? 0) + 1);
  }
  return { byBuilding, bySubstation };
}

export function need<T>(port: T | undefined, what: string): T {
  if (!port) {
    const e = Errors.storeDown(`${what} is not available in this installation.`);
    throw e;
  }
  return port;
}
