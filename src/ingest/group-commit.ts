import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Journal, JournalEntry } from '../storage/journal.ts';

export interface GroupCommitSettings {
  /** A group is committed as soon as it holds this many messages (`ingest.groupCommit.maxMessages`). */
  maxMessages: number;
  /**
   * How long the first message of a group may wait for others (`ingest.groupCommit.maxWaitMs`). 0: the
   * group is committed at the end of the event-loop turn in which it was opened (setImmediate), so it
   * holds what mqtt.js parsed from that turn's socket reads and adds no timer wait.
   */
  maxWaitMs: number;
}

/** A message waiting in the open group; `entry` is absent for messages with nothing to journal. */
export interface GroupMember<M> {
  message: M;
  entry: JournalEntry | undefined;
}

export interface GroupCommitDeps<M> {
  journal: Journal;
  /** Wall time, for `maxWaitMs`: a disk matter, not heating time. */
  wallClock: Clock;
  settings: () => GroupCommitSettings;
  /** Runs after the group's transaction committed, for each member in arrival order. */
  committed: (members: readonly GroupMember<M>[]) => void;
  /** Runs when the transaction failed: none of the members is durable. */
  failed: (members: readonly GroupMember<M>[], err: unknown) => void;
  /** Seconds the transaction took, and how many messages it carried. */
  observe: (seconds: number, messages: number) => void;
}

/**
 * Group commit for the journal (docs/architecture.md "The durability promise", point 1): the messages
 * that arrive within one event-loop turn are appended in one journal transaction, and only after it
 * committed are they handed on (acknowledged, applied to the live state). The acknowledgement still
 * follows durability for every message; what a group saves is one commit per message.
 */
export class GroupCommit<M> {
  private members: GroupMember<M>[] = [];
  private timer: TimerHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly d: GroupCommitDeps<M>) {}

  /** Messages waiting for the open group's commit. */
  get size(): number {
    return this.members.length;
  }

  add(message: M, entry: JournalEntry | undefined): void {
    this.members.push({ message, entry });
    const s = this.d.settings();
    if (this.members.length >= s.maxMessages) {
      this.commit();
      return;
    }
    if (this.members.length > 1) return;
    if (s.maxWaitMs > 0) this.timer = this.d.wallClock.setTimeout(() => this.commit(), s.maxWaitMs);
    else this.immediate = setImmediate(() => this.commit());
  }

  /** Commits the open group now (also at stop, and before a held message is retried). */
  commit(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    const members = this.members;
    if (members.length === 0) return;
    this.members = [];
    const entries: JournalEntry[] = [];
    for (const m of members) if (m.entry) entries.push(m.entry);
    try {
      const t0 = performance.now();
      this.d.journal.appendMany(entries);
      if (entries.length > 0) this.d.observe((performance.now() - t0) / 1000, entries.length);
    } catch (err) {
      this.d.failed(members, err);
      return;
    }
    this.d.committed(members);
  }
}
