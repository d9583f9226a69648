import pg from 'pg';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { SqlDb, SqlExecutor } from '../storage/sql.ts';
import type { SqlMigration } from '../storage/sql-migrate.ts';

/**
 * Live events shared by every instance of a city (docs/deploy.md "A city on PostgreSQL"): ticket,
 * case and building-state changes are appended to one ordered table; PostgreSQL NOTIFY carries only
 * the new row's id, and each instance reads the rows after the last id it saw. So every instance's
 * live stream shows the same events in the same order, none twice, and an instance whose listening
 * connection dropped reads what it missed when it is back.
 *
 * Order: appends take one transaction-scoped advisory lock before taking their id, so ids become
 * visible in increasing order (a reader never sees id n+1 while n is still uncommitted and would be
 * skipped). Live events are a few per minute per city; one lock costs nothing at that rate.
 */
export const liveFeedMigrations: readonly SqlMigration[] = [
  {
    id: 'live-001',
    sqlite: `CREATE TABLE live_events (
      id     INTEGER PRIMARY KEY AUTOINCREMENT,
      ts_ms  INTEGER NOT NULL,
      kind   TEXT NOT NULL,
      origin TEXT NOT NULL,
      body   TEXT NOT NULL
    );`,
    postgres: `CREATE TABLE live_events (
      id     BIGSERIAL PRIMARY KEY,
      ts_ms  BIGINT NOT NULL,
      kind   TEXT NOT NULL,
      origin TEXT NOT NULL,
      body   TEXT NOT NULL
    );`,
  },
];

/** Serialises appends (see above); a constant of heatwatch's advisory-lock range. */
const APPEND_LOCK_KEY = 0x68770002;

export interface FeedEvent {
  id: number;
  tsMs: number;
  kind: string;
  /** The instance that appended it. */
  origin: string;
  body: unknown;
}

/** Appends one event and announces its id; returns the id. */
export async function appendLive(
  db: SqlDb,
  e: { kind: string; origin: string; body: unknown; tsMs: number },
): Promise<number> {
  return db.tx(async (q) => {
    if (q.dialect === 'postgres') await q.get('SELECT pg_advisory_xact_lock(?)', [APPEND_LOCK_KEY]);
    const row = await q.get<{ id: number }>(
      'INSERT INTO live_events (ts_ms, kind, origin, body) VALUES (?, ?, ?, ?) RETURNING id',
      [e.tsMs, e.kind, e.origin, JSON.stringify(e.body)],
    );
    const id = Number(row!.id);
    // Delivered at commit, to every connection listening on this schema's channel (channels are
    // per database; the schema in the name keeps two schemas' feeds apart).
    if (q.dialect === 'postgres')
      await q.get(`SELECT pg_notify('hw_live_' || current_schema(), ?)`, [String(id)]);
    return id;
  });
}

/** Events after `afterId`, in order, at most `limit`. */
export async function readLive(q: SqlExecutor, afterId: number, limit: number): Promise<FeedEvent[]> {
  const rows = await q.all<{ id: number; ts_ms: number; kind: string; origin: string; body: string }>(
    'SELECT id, ts_ms, kind, origin, body FROM live_events WHERE id > ? ORDER BY id LIMIT ?',
    [afterId, limit],
  );
  return rows.map((r) => ({
    id: Number(r.id),
    tsMs: Number(r.ts_ms),
    kind: r.kind,
    origin: r.origin,
    body: JSON.parse(r.body) as unknown,
  }));
}

/** Deletes events older than `beforeMs` (the table is a feed, not a history); returns how many. */
export async function pruneLive(q: SqlExecutor, beforeMs: number): Promise<number> {
  return (await q.run('DELETE FROM live_events WHERE ts_ms < ?', [beforeMs])).changes;
}

export interface LiveFeedSettings {
  /** Rows read per query while catching up. */
  batch: number;
  /** First wait before reconnecting a lost listening connection; doubles up to reconnectMaxMs. */
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** A new listening connection must be established within this time. */
  connectTimeoutMs: number;
}

export interface LiveFeedFollowerOptions {
  /** HEATWATCH_PG_URL (with the schema in `options`, or the server's default search_path). */
  url: string;
  schema?: string;
  /** The pooled ops database, for reading the rows. */
  db: SqlDb;
  settings: () => LiveFeedSettings;
  wallClock: Clock;
  /** Called once per event, in id order. */
  onEvent(e: FeedEvent): void;
  /** Start after this id; absent: after the newest row at start (no history replayed). */
  afterId?: number;
  log: Logger;
}

/**
 * Follows the live-event table on one dedicated connection that LISTENs; every notification, and
 * every (re)connection, reads the rows after the last id handed on. Reads are one at a time; a
 * notification during a read makes the read run once more.
 */
export class LiveFeedFollower {
  private client: pg.Client | undefined;
  private lastId = 0;
  private reading = false;
  private again = false;
  private stopped = true;
  private retryTimer: TimerHandle | undefined;
  private backoffMs = 0;
  /** Attempt number: events of an older connection's client are ignored. */
  private attempt = 0;
  /** Connections made (the first one included): a test can wait for a reconnect. */
  connections = 0;

  constructor(private readonly o: LiveFeedFollowerOptions) {}

  get position(): number {
    return this.lastId;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.lastId =
      this.o.afterId ??
      Number((await this.o.db.get<{ m: number | null }>('SELECT MAX(id) AS m FROM live_events'))?.m ?? 0);
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.retryTimer?.cancel();
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }

  /** Reads and hands on everything after the last id (also called on every notification). */
  async catchUp(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.again = false;
        for (;;) {
          const rows = await readLive(this.o.db, this.lastId, this.o.settings().batch);
          for (const e of rows) {
            this.lastId = e.id;
            this.o.onEvent(e);
          }
          if (rows.length < this.o.settings().batch) break;
        }
      } while (this.again && !this.stopped);
    } catch (err) {
      this.o.log.warn({ err, afterId: this.lastId }, 'live feed: read failed; retried at the next notice');
    } finally {
      this.reading = false;
    }
  }

  private async connect(): Promise<void> {
    const attempt = ++this.attempt;
    const client = new pg.Client({
      connectionString: this.o.url,
      connectionTimeoutMillis: this.o.settings().connectTimeoutMs,
      ...(this.o.schema !== undefined ? { options: `-c search_path=${this.o.schema}` } : {}),
    });
    client.on('error', (err) => this.lost(attempt, err));
    client.on('end', () => this.lost(attempt, undefined));
    try {
      await client.connect();
      const { rows } = await client.query<{ s: string }>('SELECT current_schema() AS s');
      await client.query(`LISTEN "hw_live_${rows[0]!.s}"`);
    } catch (err) {
      this.lost(attempt, err);
      await client.end().catch(() => {});
      return;
    }
    if (this.stopped || attempt !== this.attempt) {
      await client.end().catch(() => {});
      return;
    }
    client.on('notification', () => void this.catchUp());
    this.client = client;
    this.connections++;
    this.backoffMs = 0;
    // Whatever was appended while we were not listening.
    await this.catchUp();
  }

  private lost(attempt: number, err: unknown): void {
    if (attempt !== this.attempt || this.stopped || this.retryTimer) return;
    const dead = this.client;
    this.client = undefined;
    void dead?.end().catch(() => {});
    const s = this.o.settings();
    this.backoffMs = Math.min(s.reconnectMaxMs, this.backoffMs ? this.backoffMs * 2 : s.reconnectInitialMs);
    this.o.log.warn({ err, retryMs: this.backoffMs }, 'live feed: listening connection lost; reconnecting');
    this.retryTimer = this.o.wallClock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.backoffMs);
  }
}
