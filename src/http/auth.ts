import { createHash, randomBytes } from 'node:crypto';
import type { UsersConfig } from '../config/users-schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Locale } from '../i18n/index.ts';
import type { Db } from '../storage/sqlite.ts';
import type { Role } from './ports.ts';

export interface Principal {
  name: string;
  role: Role;
  /** The user's own language from users.yaml; absent: the site default (http.locale). */
  locale?: Locale;
}

/**
 * `sha256$<hex>` of a token. Tokens are 32 random bytes, so a fast hash is enough: there is nothing
 * to brute-force that is cheaper than guessing the token itself (users-schema.ts says the same).
 */
export const hashToken = (token: string): string =>
  `sha256$${createHash('sha256').update(token, 'utf8').digest('hex')}`;

export const newToken = (): string => `hw_${randomBytes(32).toString('base64url')}`;

interface Entry {
  principal: Principal;
  expiresMs?: number;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: 'unknown' | 'expired' };

/** Bearer-token check against users.yaml, HEATWATCH_ADMIN_TOKEN and the first-start admin token. */
export class TokenAuth {
  private byHash = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    users: UsersConfig,
    private readonly extra: Array<{ hash: string; principal: Principal }> = [],
  ) {
    this.setUsers(users);
  }

  /** Adopts users.yaml after a reload; tokens removed there stop working at once. */
  setUsers(users: UsersConfig): void {
    const next = new Map<string, Entry>();
    for (const x of this.extra) next.set(x.hash, { principal: x.principal });
    for (const u of users.users) {
      next.set(u.tokenHash, {
        principal: { name: u.name, role: u.role, ...(u.locale ? { locale: u.locale } : {}) },
        expiresMs: u.expires ? Date.parse(u.expires) : undefined,
      });
    }
    this.byHash = next;
  }

  check(token: string): AuthResult {
    const e = this.byHash.get(hashToken(token));
    if (!e) return { ok: false, reason: 'unknown' };
    if (e.expiresMs !== undefined && this.clock.now() >= e.expiresMs) return { ok: false, reason: 'expired' };
    return { ok: true, principal: e.principal };
  }
}

/**
 * First start with no users and no HEATWATCH_ADMIN_TOKEN: create an admin token, keep only its hash
 * in the operational database and hand the token to `announce` exactly once. Later starts find the
 * hash and keep accepting that token.
 */
export function bootstrapAdmin(
  db: Db,
  opts: { users: UsersConfig; adminToken?: string; now: number; announce: (token: string) => void },
): Array<{ hash: string; principal: Principal }> {
  const out: Array<{ hash: string; principal: Principal }> = [];
  if (opts.adminToken)
    out.push({ hash: hashToken(opts.adminToken), principal: { name: 'admin', role: 'engineer' } });
  const row = db.prepare('SELECT token_hash FROM http_admin_token WHERE id = 1').get() as
    | { token_hash: string }
    | undefined;
  if (row) {
    out.push({ hash: row.token_hash, principal: { name: 'admin', role: 'engineer' } });
  } else if (opts.users.users.length === 0 && !opts.adminToken) {
    const token = newToken();
    const hash = hashToken(token);
    db.prepare('INSERT INTO http_admin_token (id, token_hash, created_ts) VALUES (1, ?, ?)').run(
      hash,
      opts.now,
    );
    out.push({ hash, principal: { name: 'admin', role: 'engineer' } });
    opts.announce(token);
  }
  return out;
}

/**
 * Fixed-window counters per key (client address), reset each window. Memory is bounded by the keys
 * seen in one window, and `maxKeys` clamps even that against an address-spraying client.
 */
export class WindowCounter {
  private windowStart = 0;
  private counts = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  private roll(): void {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now - (now % this.windowMs);
      this.counts.clear();
    }
  }

  /** Adds one for `key` and returns the new count. */
  hit(key: string): number {
    this.roll();
    if (!this.counts.has(key) && this.counts.size >= this.maxKeys) return Number.POSITIVE_INFINITY;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }

  count(key: string): number {
    this.roll();
    return this.counts.get(key) ?? 0;
  }

  /** Milliseconds until the current window ends (for Retry-After). */
  retryAfterMs(): number {
    return Math.max(0, this.windowStart + this.windowMs - this.clock.now());
  }
}

/**
 * Reads the token: `Authorization: Bearer` always; on the live stream only (`streamRoute`), else
 * the `hw_token` cookie, else `?token=`. A browser sends cookies on cross-site requests too, so a
 * cookie must never authenticate a write (issue #13 item 5): the live stream is read-only.
 */
export function extractToken(
  headers: Record<string, string | string[] | undefined>,
  query: unknown,
  streamRoute: boolean,
  /** @fastify/cookie's parser (it leaves a value that is not valid percent-encoding as sent). */
  parseCookie: (header: string) => Record<string, string | undefined>,
): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : '';
  }
  if (!streamRoute) return undefined;
  const cookie = headers.cookie;
  if (typeof cookie === 'string') {
    const t = parseCookie(cookie).hw_token;
    if (t !== undefined) return t;
  }
  if (query && typeof query === 'object') {
    const t = (query as Record<string, unknown>).token;
    if (typeof t === 'string') return t;
  }
  return undefined;
}
