import type { Clock } from '../core/clock.ts';

/**
 * Per-key token buckets for the embedded broker's rate limits (publishes per device, connection
 * attempts per client id). Time comes from the injected clock, so a demo running the network at
 * `--speed 360` is limited in heating time, like the devices it simulates, and tests move time with a
 * ManualClock instead of sleeping.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly refillPerMs: number;

  /**
   * @param perMin tokens a key earns per minute; also the burst a quiet key may spend at once, so a
   *   device that was silent for a minute can send a minute's worth without being cut.
   * @param maxKeys bound on remembered keys: keys come from the wire (client ids), so an attacker
   *   rotating them must not grow this map without end; past the bound, full buckets are forgotten.
   */
  constructor(
    private readonly clock: Clock,
    private readonly perMin: number,
    private readonly maxKeys: number,
  ) {
    this.refillPerMs = perMin / 60_000;
  }

  /** Takes one token for `key`; false when the key has used up its rate. */
  take(key: string): boolean {
    const nowMs = this.clock.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.prune();
      b = { tokens: this.perMin, atMs: nowMs };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.perMin, b.tokens + Math.max(0, nowMs - b.atMs) * this.refillPerMs);
      b.atMs = nowMs;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Forgets keys whose bucket has refilled: they behave exactly like unseen keys. */
  prune(): void {
    const nowMs = this.clock.now();
    for (const [key, b] of this.buckets) {
      if (b.tokens + Math.max(0, nowMs - b.atMs) * this.refillPerMs >= this.perMin) this.buckets.delete(key);
    }
    // Still full of throttled keys (a flood of fresh ids): drop the oldest half rather than grow.
    if (this.buckets.size >= this.maxKeys) {
      let n = Math.floor(this.buckets.size / 2);
      for (const key of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(key);
      }
    }
  }

  clear(): void {
    this.buckets.clear();
  }
}
