import type { Clock } from '../core/clock.ts';
import type { RejectReason } from '../core/readings.ts';
import type { Db, Migration } from './sqlite.ts';

/**
 * Rejected input, kept with its reason (docs/architecture.md decision 5): an engineer can see what a device
 * really sent. The payload is cut to `payloadBytes` so a flood of huge junk cannot fill the disk;
 * `payload_bytes` keeps the original size.
 */
export const deadLetterMigrations: readonly Migration[] = [
  {
    id: 'dead-letters-001',
    sql: `
      CREATE TABLE dead_letters (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        received_ms   INTEGER NOT NULL,
        topic         TEXT    NOT NULL,
        payload       BLOB    NOT NULL,
        payload_bytes INTEGER NOT NULL,
        reason        TEXT    NOT NULL,
        detail        TEXT    NOT NULL
      );
      CREATE INDEX dead_letters_received ON dead_letters (received_ms);
      CREATE INDEX dead_letters_reason ON dead_letters (reason, received_ms);
    `,
  },
];

export interface DeadLetter {
  id: number;
  receivedMs: number;
  topic: string;
  payload: Buffer;
  payloadBytes: number;
  reason: RejectReason | string;
  detail: string;
}

export interface DeadLetterOptions {
  payloadBytes: number;
  retentionDays: number;
}

const MAX_TOPIC_CHARS = 256;
const MAX_DETAIL_CHARS = 500;

export class DeadLetters {
  private readonly insert;
  private readonly pruneStmt;

  constructor(
    private readonly db: Db,
    private readonly opts: DeadLetterOptions,
    private readonly clock: Clock,
  ) {
    this.insert = db.prepare(
      'INSERT INTO dead_letters (received_ms, topic, payload, payload_bytes, reason, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.pruneStmt = db.prepare('DELETE FROM dead_letters WHERE received_ms < ?');
  }

  /** Synchronous (autocommit): the reject is kept before the message is acknowledged. */
  add(topic: string, payload: Buffer, reason: RejectReason | string, detail: string): void {
    this.insert.run(
      this.clock.now(),
      topic.slice(0, MAX_TOPIC_CHARS),
      payload.subarray(0, this.opts.payloadBytes),
      payload.length,
      reason,
      detail.slice(0, MAX_DETAIL_CHARS),
    );
  }

  recent(limit: number, reason?: string): DeadLetter[] {
    const rows = (
      reason
        ? this.db
            .prepare('SELECT * FROM dead_letters WHERE reason = ? ORDER BY id DESC LIMIT ?')
            .all(reason, limit)
        : this.db.prepare('SELECT * FROM dead_letters ORDER BY id DESC LIMIT ?').all(limit)
    ) as Array<{
      id: number;
      received_ms: number;
      topic: string;
      payload: Buffer;
      payload_bytes: number;
      reason: string;
      detail: string;
    }>;
    return rows.map((r) => ({
      id: r.id,
      receivedMs: r.received_ms,
      topic: r.topic,
      payload: r.payload,
      payloadBytes: r.payload_bytes,
      reason: r.reason,
      detail: r.detail,
    }));
  }

  countByReason(): Record<string, number> {
    const rows = this.db
      .prepare('SELECT reason, COUNT(*) AS n FROM dead_letters GROUP BY reason')
      .all() as Array<{
      reason: string;
      n: number;
    }>;
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  /** Deletes dead letters past retention; returns how many. */
  prune(): number {
    return this.pruneStmt.run(this.clock.now() - this.opts.retentionDays * 86_400_000).changes;
  }
}
