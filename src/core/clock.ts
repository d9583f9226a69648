/**
 * One clock for the whole process (docs/architecture.md decision 8). Every component asks it for the time and
 * for timers, so tests can hold time still and the demo can run days of heating in minutes.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Epoch milliseconds in heating time (may run faster than the wall). */
  now(): number;
  /** Calls `fn` once after `delayMs` of heating time. */
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  /** Calls `fn` every `periodMs` of heating time. */
  setInterval(fn: () => void, periodMs: number): TimerHandle;
  /** How many heating-time milliseconds pass per wall-clock millisecond. */
  readonly speed: number;
}

/** Wall-clock time, optionally accelerated from a starting instant (`--speed N`). */
export class ScaledClock implements Clock {
  private readonly wallStart: number;
  private readonly heatStart: number;

  constructor(
    readonly speed = 1,
    startEpochMs?: number,
  ) {
    if (!(speed > 0) || !Number.isFinite(speed))
      throw new RangeError(`clock speed must be > 0, got ${speed}`);
    this.wallStart = Date.now();
    this.heatStart = startEpochMs ?? this.wallStart;
  }

  now(): number {
    return this.heatStart + (Date.now() - this.wallStart) * this.speed;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    const t = setTimeout(fn, Math.max(0, delayMs / this.speed));
    return { cancel: () => clearTimeout(t) };
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    // Node clamps intervals below 1 ms; at very high speeds callers get at most one call per ms.
    const t = setInterval(fn, Math.max(1, periodMs / this.speed));
    return { cancel: () => clearInterval(t) };
  }
}

export const systemClock = (): Clock => new ScaledClock(1);

interface ManualTimer {
  id: number;
  due: number;
  periodMs: number | undefined;
  fn: () => void;
}

/**
 * A clock that moves only when told to. `advance()` fires due timers in time order, setting `now()`
 * to each timer's due time as it fires, so code under test sees a consistent timeline.
 */
export class ManualClock implements Clock {
  readonly speed = 1;
  private t: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(startEpochMs = Date.UTC(2026, 0, 15, 0, 0, 0)) {
    this.t = startEpochMs;
  }

  now(): number {
    return this.t;
  }

  set(epochMs: number): void {
    this.t = epochMs;
  }

  setTimeout(fn: () => void, delayMs: number): TimerHandle {
    return this.add(fn, delayMs, undefined);
  }

  setInterval(fn: () => void, periodMs: number): TimerHandle {
    return this.add(fn, periodMs, Math.max(1, periodMs));
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const timer of this.timers) {
        if (
          timer.due <= end &&
          (!next || timer.due < next.due || (timer.due === next.due && timer.id < next.id))
        )
          next = timer;
      }
      if (!next) break;
      this.t = Math.max(this.t, next.due);
      if (next.periodMs === undefined) this.timers = this.timers.filter((x) => x !== next);
      else next.due += next.periodMs;
      next.fn();
    }
    this.t = end;
  }

  /** Like `advance`, but lets promises settle between timer firings. */
  async advanceAsync(ms: number, stepMs = ms): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(stepMs, left);
      this.advance(step);
      left -= step;
      await new Promise((r) => setImmediate(r));
    }
  }

  pendingTimers(): number {
    return this.timers.length;
  }

  private add(fn: () => void, delayMs: number, periodMs: number | undefined): TimerHandle {
    const timer: ManualTimer = { id: this.seq++, due: this.t + Math.max(0, delayMs), periodMs, fn };
    this.timers.push(timer);
    return { cancel: () => (this.timers = this.timers.filter((x) => x !== timer)) };
  }
}
