import type { Finding, Observation } from './types.ts';

export interface TrackerOptions {
  minDurationMs: number;
  /** Raised this many times within `windowMs`: flapping. */
  maxRaises: number;
  windowMs: number;
}

export interface Entry {
  phase: 'idle' | 'pending' | 'active';
  /** pending: since when the raise condition holds; active: since when it is active. */
  sinceTs: number;
  raises: number[];
  flapping: boolean;
  last: Observation;
  lastSeenTs: number;
  /** What crossed the raise threshold when the condition became active. */
  fired?: Fired;
}

export interface Fired {
  ts: number;
  valueC: number;
  evidence: Record<string, unknown>;
}

/**
 * Hysteresis, minimum duration and flapping for every (rule, target) condition. A condition becomes
 * active once its raise level held for the minimum duration without a break; it stays active through
 * the hysteresis band (`hold`) and clears only at the clear level. A condition raised `maxRaises`
 * times within the window is flapping: it is reported as such and not raised again until it calms.
 */
export class ConditionTracker {
  private readonly entries = new Map<string, Entry>();
  /**
   * The targets each rule holds an entry for, kept in step with `entries`: rules ask it per target
   * every tick (`has`) to skip `hold`/`clear` observations `update` would drop anyway, and a lookup
   * here builds no key string.
   */
  private readonly byRule = new Map<string, Set<string>>();

  static key(rule: string, targetId: string): string {
    return `${rule}|${targetId}`;
  }

  /** Feeds one tick's observations of one rule; returns nothing (read `findings()`). */
  update(observations: readonly Observation[], now: number, opts: TrackerOptions): void {
    for (const o of observations) {
      const key = ConditionTracker.key(o.rule, o.targetId);
      let e = this.entries.get(key);
      if (!e) {
        if (o.level !== 'raise') continue;
        e = { phase: 'idle', sinceTs: now, raises: [], flapping: false, last: o, lastSeenTs: now };
        this.put(key, e);
      }
      e.last = o;
      e.lastSeenTs = now;
      e.raises = e.raises.filter((t) => now - t < opts.windowMs);
      if (e.flapping && e.raises.length < opts.maxRaises) e.flapping = false;
      switch (o.level) {
        case 'raise':
          if (e.phase === 'idle') {
            e.phase = 'pending';
            e.sinceTs = now;
          }
          if (e.phase === 'pending' && now - e.sinceTs >= opts.minDurationMs) {
            e.phase = 'active';
            e.sinceTs = now;
            e.fired = { ts: now, valueC: o.valueC, evidence: o.evidence };
            e.raises.push(now);
            if (e.raises.length >= opts.maxRaises) e.flapping = true;
          }
          break;
        case 'hold':
          // In the band: an active condition stays; a pending one has not held its raise level.
          if (e.phase === 'pending') e.phase = 'idle';
          break;
        case 'clear':
          e.phase = 'idle';
          break;
      }
      if (e.phase === 'idle' && !e.flapping && e.raises.length === 0) this.remove(key, e);
    }
  }

  /** Whether a condition of `rule` on `targetId` is held (idle with raise history, pending, active). */
  has(rule: string, targetId: string): boolean {
    // Rules ask for one rule's targets many times in a row: keep that rule's set at hand.
    if (rule !== this.lastRule) {
      this.lastRule = rule;
      this.lastTargets = this.byRule.get(rule);
    }
    return this.lastTargets?.has(targetId) ?? false;
  }
  private lastRule: string | undefined;
  private lastTargets: Set<string> | undefined;

  private put(key: string, e: Entry): void {
    this.entries.set(key, e);
    let targets = this.byRule.get(e.last.rule);
    if (!targets) {
      targets = new Set();
      this.byRule.set(e.last.rule, targets);
      if (this.lastRule === e.last.rule) this.lastTargets = targets;
    }
    targets.add(e.last.targetId);
  }

  private remove(key: string, e: Entry): void {
    this.entries.delete(key);
    this.byRule.get(e.last.rule)?.delete(e.last.targetId);
  }

  /** Drops conditions of targets no rule has judged for `staleMs` (a building gone silent, a reload). */
  expire(now: number, staleMs: number): void {
    for (const [key, e] of this.entries) if (now - e.lastSeenTs > staleMs) this.remove(key, e);
  }

  /** The target of every condition held (incremental evaluation judges them every tick). */
  *targets(): IterableIterator<Observation> {
    for (const e of this.entries.values()) yield e.last;
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    for (const e of this.entries.values()) {
      const seen = { sinceTs: e.sinceTs, seenTs: e.lastSeenTs, fired: e.fired };
      if (e.flapping) out.push({ ...e.last, state: 'flapping', ...seen });
      else if (e.phase === 'active') out.push({ ...e.last, state: 'active', ...seen });
    }
    return out;
  }

  phaseOf(rule: string, targetId: string): { phase: Entry['phase']; flapping: boolean } | undefined {
    const e = this.entries.get(ConditionTracker.key(rule, targetId));
    return e && { phase: e.phase, flapping: e.flapping };
  }

  clear(): void {
    this.entries.clear();
    this.byRule.clear();
    this.lastRule = undefined;
    this.lastTargets = undefined;
  }

  /** Every condition's state, for a checkpoint (a restart keeps minimum durations and flapping). */
  snapshot(): Array<[string, Entry]> {
    return [...this.entries].map(([k, e]) => [k, { ...e, raises: [...e.raises] }]);
  }

  restore(entries: Array<[string, Entry]>): void {
    this.clear();
    for (const [k, e] of entries) this.put(k, { ...e, raises: [...e.raises] });
  }
}
