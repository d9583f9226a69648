import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Db, Migration } from '../storage/sqlite.ts';
import type { LiveState } from './live-state.ts';

/**
 * Checkpoints of the live state in the operational database, so a restart shows the last picture at
 * once instead of an empty dashboard until every sensor reported again (docs/architecture.md decision 3:
 * everything that must survive a restart lives in SQLite). One row, replaced each time.
 */
export const checkpointMigrations: readonly Migration[] = [
  {
    id: 'state-001',
    sql: `
      CREATE TABLE live_state_checkpoint (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        saved_ms INTEGER NOT NULL,
        body     TEXT    NOT NULL
      );
    `,
  },
];

export interface CheckpointOptions {
  intervalMs: number;
}

export class StateCheckpoint {
  private timer: TimerHandle | undefined;
  private lastSavedMs: number | undefined;

  constructor(
    private readonly db: Db,
    private readonly live: LiveState,
    private readonly opts: CheckpointOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Restores the last checkpoint (if any) and starts the periodic save. */
  start(): void {
    this.restore();
    this.timer = this.clock.setInterval(() => this.save(), this.opts.intervalMs);
  }

  /** Saves once more, so a clean stop loses nothing of the live picture. */
  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.save();
  }

  get savedMs(): number | undefined {
    return this.lastSavedMs;
  }

  save(): void {
    try {
      const now = this.clock.now();
      this.db
        .prepare('INSERT OR REPLACE INTO live_state_checkpoint (id, saved_ms, body) VALUES (1, ?, ?)')
        .run(now, JSON.stringify(this.live.snapshot()));
      this.lastSavedMs = now;
    } catch (err) {
      // A failed checkpoint costs only restart comfort; the readings themselves are in the journal.
      this.log.error({ err }, 'live-state checkpoint failed');
    }
  }

  restore(): boolean {
    const row = this.db.prepare('SELECT saved_ms, body FROM live_state_checkpoint WHERE id = 1').get() as
      | { saved_ms: number; body: string }
      | undefined;
    if (!row) return false;
    try {
      this.live.restore(JSON.parse(row.body));
      this.lastSavedMs = row.saved_ms;
      this.log.info({ savedMs: row.saved_ms }, 'live state restored from checkpoint');
      return true;
    } catch (err) {
      this.log.warn({ err }, 'live-state checkpoint unreadable; starting empty');
      return false;
    }
  }
}
