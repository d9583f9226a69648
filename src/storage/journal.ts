import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { RoomReading, SubstationReading } from '../core/readings.ts';
import { type Db, type Migration, migrate } from './sqlite.ts';

/**
 * The ingest journal, which is also the spool (docs/architecture.md decision 4). Every accepted message
 * is appended here synchronously before its PUBACK is sent. Ingestion groups the messages of one
 * event-loop turn (what mqtt.js parsed from the socket reads of that turn) and appends them with
 * `appendMany`, one transaction and one WAL commit per group, before any of their acknowledgements
 * goes out (src/ingest/group-commit.ts). The spool drain (src/ingest/spool-drain.ts) moves rows to
 * the reading store in id order and deletes them once the store confirmed; while the store is down
 * the rows simply stay, and are replayed in the same order when it is back. A replay writes the
 * same series and timestamps again, which the store overwrites, so a reading is never doubled.
 *
 * Power-loss window: with `synchronous: 'FULL'` every append is fsynced before the PUBACK, so a power
 * cut loses nothing acknowledged. With `'NORMAL'` (WAL) a killed process loses nothing either, but
 * a power cut may lose appends since the last WAL sync; heatwatch then forces a checkpoint (which
 * syncs the WAL) every `syncIntervalMs`, which bounds that window.
 */
// `id` is the rowid without AUTOINCREMENT (which costs a sqlite_sequence write per insert): rows are
// deleted only from the front, so a new row's id is always above every id a flush is working on.
export const journalMigrations: readonly Migration[] = [
  {
    id: 'journal-001',
    sql: `
      CREATE TABLE journal (
        id          INTEGER PRIMARY KEY,
        kind        TEXT    NOT NULL CHECK (kind IN ('room', 'substation')),
        received_ms INTEGER NOT NULL,
        n           INTEGER NOT NULL,
        body        TEXT    NOT NULL
      );
    `,
  },
];

type Statement = Database.Statement<unknown[]>;

export type JournalKind = 'room' | 'substation';

/** One accepted message: its readings, journalled as one row. */
export interface JournalEntry {
  kind: JournalKind;
  readings: readonly RoomReading[] | readonly SubstationReading[];
  receivedMs: number;
  /** The stored body, `JSON.stringify(readings)`, when the caller made it already (to size it). */
  body?: string;
}

export interface JournalRow {
  id: number;
  kind: JournalKind;
  receivedMs: number;
  readings: RoomReading[] | SubstationReading[];
  /** Size of the stored body, for the spool budget. */
  bytes: number;
}

export interface JournalOptions {
  file: string;
  synchronous: 'FULL' | 'NORMAL';
  /** With NORMAL: how often the WAL is synced by a checkpoint (the power-loss window). */
  syncIntervalMs: number;
  /** Disk budget of the journal's bodies; `overBudget` turns true past it. */
  maxBytes: number;
}

export interface JournalStats {
  /** Messages waiting for the store. */
  depth: number;
  /** Readings in those messages. */
  readings: number;
  bytes: number;
  /** Receive time of the oldest waiting message, if any. */
  oldestReceivedMs: number | undefined;
}

export class Journal {
  private db: Db | undefined;
  private stmts:
    | {
        insert: Statement;
        batch: Statement;
        remove: Statement;
        oldest: Statement;
      }
    | undefined;
  private insertMany: ((entries: readonly JournalEntry[]) => number) | undefined;
  private syncTimer: TimerHandle | undefined;
  private depthRows = 0;
  private depthReadings = 0;
  private bodyBytes = 0;

  constructor(
    private readonly opts: JournalOptions,
    /** Wall time: the sync interval is about disks, not heating time. */
    private readonly wallClock: Clock,
  ) {}

  start(): void {
    if (this.db) return;
    if (this.opts.file !== ':memory:') mkdirSync(dirname(this.opts.file), { recursive: true });
    // No busy wait: the only other holder of the lock can be a second heatwatch, which must fail.
    const db = new Database(this.opts.file, { timeout: 0 });
    // One process owns the journal: exclusive locking lets WAL skip the shared-memory index and its
    // locks at every commit (measured: ~1.6x the autocommit insert rate), and a second heatwatch
    // pointed at the same data directory fails at start instead of sharing the spool.
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${this.opts.synchronous}`);
    migrate(db, journalMigrations);
    this.stmts = {
      insert: db.prepare('INSERT INTO journal (kind, received_ms, n, body) VALUES (?, ?, ?, ?)'),
      batch: db.prepare('SELECT id, kind, received_ms, body FROM journal WHERE id > ? ORDER BY id LIMIT ?'),
      remove: db.prepare('DELETE FROM journal WHERE id <= ?'),
      oldest: db.prepare('SELECT received_ms FROM journal ORDER BY id LIMIT 1'),
    };
    const agg = db
      .prepare(
        'SELECT COUNT(*) AS rows, COALESCE(SUM(n), 0) AS n, COALESCE(SUM(length(CAST(body AS BLOB))), 0) AS bytes FROM journal',
      )
      .get() as { rows: number; n: number; bytes: number };
    this.depthRows = agg.rows;
    this.depthReadings = agg.n;
    this.bodyBytes = agg.bytes;
    const insert = this.stmts.insert;
    // One transaction for a whole group: one WAL commit (and with FULL one fsync) for all of it.
    this.insertMany = db.transaction((entries: readonly JournalEntry[]) => {
      let bytes = 0;
      for (const e of entries) {
        const body = e.body ?? JSON.stringify(e.readings);
        insert.run(e.kind, e.receivedMs, e.readings.length, body);
        bytes += Buffer.byteLength(body);
      }
      return bytes;
    });
    this.db = db;
    if (this.opts.synchronous === 'NORMAL')
      this.syncTimer = this.wallClock.setInterval(() => this.sync(), this.opts.syncIntervalMs);
  }

  stop(): void {
    this.syncTimer?.cancel();
    this.syncTimer = undefined;
    const db = this.db;
    this.db = undefined;
    this.stmts = undefined;
    this.insertMany = undefined;
    if (db) {
      // A clean stop leaves no WAL behind, so the file alone holds the spool.
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    }
  }

  /** Readings waiting for the store (cheap: kept in memory, no query). */
  get pendingReadings(): number {
    return this.depthReadings;
  }

  get overBudget(): boolean {
    return this.overBudgetWith(0);
  }

  /**
   * Whether the bodies, with `pendingBytes` more that are waiting for their group's commit, reach
   * maxBytes: a group of one event-loop turn can carry up to `ingest.groupCommit.maxMessages`
   * messages, so the budget must count them before they are written, not after.
   */
  overBudgetWith(pendingBytes: number): boolean {
    return this.bodyBytes + pendingBytes >= this.opts.maxBytes;
  }

  /** Appends one message's readings; returns after the insert committed (and, with FULL, synced). */
  append(
    kind: JournalKind,
    readings: readonly RoomReading[] | readonly SubstationReading[],
    receivedMs: number,
  ): void {
    this.appendMany([{ kind, readings, receivedMs }]);
  }

  /**
   * Appends several messages in one transaction; returns after it committed (and, with FULL, synced).
   * All or nothing: if it throws, none of them is in the journal.
   */
  appendMany(entries: readonly JournalEntry[]): void {
    if (!this.insertMany) throw new Error('journal is not started');
    if (entries.length === 0) return;
    const bytes = this.insertMany(entries);
    this.depthRows += entries.length;
    for (const e of entries) this.depthReadings += e.readings.length;
    this.bodyBytes += bytes;
  }

  /**
   * The oldest waiting rows after `afterId`, in order, until they hold at least `maxReadings`
   * readings (a single row is never split: it is one message).
   */
  peek(maxReadings: number, afterId = 0): JournalRow[] {
    if (!this.stmts) return [];
    const out: JournalRow[] = [];
    let n = 0;
    let last = afterId;
    while (n < maxReadings) {
      const rows = this.stmts.batch.all(last, Math.max(1, Math.min(maxReadings - n, 1000))) as Array<{
        id: number;
        kind: JournalKind;
        received_ms: number;
        body: string;
      }>;
      if (rows.length === 0) break;
      for (const r of rows) {
        if (n >= maxReadings) return out;
        const readings = JSON.parse(r.body) as RoomReading[] | SubstationReading[];
        out.push({
          id: r.id,
          kind: r.kind,
          receivedMs: r.received_ms,
          readings,
          bytes: Buffer.byteLength(r.body),
        });
        n += readings.length;
        last = r.id;
      }
    }
    return out;
  }

  /** Deletes the given rows (all ids up to the last one), once the store has confirmed them. */
  remove(rows: readonly JournalRow[]): void {
    const last = rows[rows.length - 1];
    if (!this.stmts || !last) return;
    this.stmts.remove.run(last.id);
    this.depthRows -= rows.length;
    for (const r of rows) {
      this.depthReadings -= r.readings.length;
      this.bodyBytes -= r.bytes;
    }
    if (this.depthRows <= 0) {
      this.depthRows = 0;
      this.depthReadings = 0;
      this.bodyBytes = 0;
    }
  }

  stats(): JournalStats {
    const oldest = this.stmts?.oldest.get() as { received_ms: number } | undefined;
    return {
      depth: this.depthRows,
      readings: this.depthReadings,
      bytes: this.bodyBytes,
      oldestReceivedMs: oldest?.received_ms,
    };
  }

  /** Syncs the WAL to disk (a passive checkpoint fsyncs it first), closing the power-loss window. */
  sync(): void {
    this.db?.pragma('wal_checkpoint(PASSIVE)');
  }
}
