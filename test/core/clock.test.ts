import { describe, expect, it } from 'vitest';
import { ManualClock, ScaledClock } from '../../src/core/clock.ts';

describe('ManualClock', () => {
  it('fires timers in time order and shows each its own due time', () => {
    const clock = new ManualClock(0);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(['b', clock.now()]), 2000);
    clock.setTimeout(() => seen.push(['a', clock.now()]), 1000);
    clock.advance(5000);
    expect(seen).toEqual([
      ['a', 1000],
      ['b', 2000],
    ]);
    expect(clock.now()).toBe(5000);
  });

  it('repeats intervals and stops them when cancelled', () => {
    const clock = new ManualClock(0);
    let n = 0;
    const h = clock.setInterval(() => n++, 300_000);
    clock.advance(3_600_000);
    expect(n).toBe(12);
    h.cancel();
    clock.advance(3_600_000);
    expect(n).toBe(12);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('runs a timer set by a timer within the same advance', () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    clock.setTimeout(() => clock.setTimeout(() => seen.push(clock.now()), 10), 10);
    clock.advance(100);
    expect(seen).toEqual([20]);
  });
});

describe('ScaledClock', () => {
  it('runs heating time faster than the wall by its speed', async () => {
    const clock = new ScaledClock(3600, Date.UTC(2026, 0, 1));
    const t0 = clock.now();
    await new Promise((r) => setTimeout(r, 50));
    const elapsed = clock.now() - t0;
    // 50 ms of wall time at 3600x is 180 s of heating time; timers on a loaded machine run late.
    expect(elapsed).toBeGreaterThanOrEqual(50 * 3600 * 0.9);
    expect(elapsed).toBeLessThan(2000 * 3600);
  });

  it('scales timers down by its speed', async () => {
    const clock = new ScaledClock(1000);
    const start = Date.now();
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 20_000));
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('refuses a speed that is not positive', () => {
    expect(() => new ScaledClock(0)).toThrow(RangeError);
    expect(() => new ScaledClock(Number.NaN)).toThrow(RangeError);
  });
});
