/** The embedded broker's port to the trust layer (src/mqtt/auth.ts and acl.ts implement it). */

/**
 * Who is on the other end of a connection, once authenticated. Devices carry their registry id; the
 * service account reads everything and writes setpoints (docs/architecture.md "Device credentials").
 */
export type Principal =
  | { kind: 'service'; id: string }
  | { kind: 'sensor' | 'substation' | 'weather'; id: string }
  /** Only from `openAuth()`: a broker without authentication, for tests of other modules. */
  | { kind: 'open'; id: string };

/** The broker's questions to the trust layer (src/mqtt/auth.ts + acl.ts answer them). */
export interface BrokerAuth {
  /** The identity behind username/password, or null to refuse the connection. Never throws. */
  authenticate(username: string | undefined, password: Buffer | undefined): Promise<Principal | null>;
  /** May this principal use this MQTT client id? Stops one device taking over another's session. */
  canUseClientId(p: Principal, clientId: string): boolean;
  canPublish(p: Principal, topic: string): boolean;
  /** Subscription filters and, with a concrete topic, what may be delivered to the principal. */
  canSubscribe(p: Principal, filter: string): boolean;
  /** Principals whose publishes count against `devicePublishesPerMin`. */
  isRateLimited(p: Principal): boolean;
}

/** No authentication, every topic but `$`-prefixed ones: only for tests of other modules. */
export const openAuth = (): BrokerAuth => ({
  authenticate: async (username) => ({ kind: 'open', id: username ?? '' }),
  canUseClientId: () => true,
  canPublish: (_p, topic) => !topic.startsWith('$'),
  canSubscribe: () => true,
  isRateLimited: () => false,
});
