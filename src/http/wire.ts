/**
 * The wire contract between the API and the dashboard that zod schemas do not already describe:
 * roles, and the live stream's events as a map from event name to payload. The server publishes
 * through this map and the dashboard subscribes through it, so a renamed event or a changed payload
 * fails the type check on both sides. Type-only imports and constants: safe to bundle for the browser.
 */
import type { HeatEvents, TicketChange } from '../core/events.ts';

export { ROLE_RANK, ROLES, type Role } from '../core/roles.ts';

/** A reading as the live stream carries it (compact: the façade needs little). */
export interface LiveReading {
  sensorId: string;
  buildingId: string;
  tempC: number;
  ts: number;
  source: 'sensor' | 'manual';
}

/** Every event of `GET /api/live` with its `data`. */
export interface LiveEvents {
  /** First frame of a connection: the id the stream is at. */
  hello: { lastId: number };
  /** The client missed events the replay buffer no longer holds: reload the view. */
  reset: { lastId: number };
  /** Newest reading per sensor since the last push, for the buildings the client asked for. */
  readings: { readings: LiveReading[] };
  building: HeatEvents['buildingStatus'];
  ticket: TicketChange;
  case: HeatEvents['caseChanged'];
  alert: HeatEvents['alert'];
}

export type LiveEventName = keyof LiveEvents;
