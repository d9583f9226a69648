import { createHmac } from 'node:crypto';
import type { HouseholdsConfig } from '../config/households-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { HouseholdsStore, OutboxItem } from './store.ts';

/** Header names of the webhook contract (docs/households.md). */
export const DELIVERY_HEADER = 'x-heatwatch-delivery';
export const SIGNATURE_HEADER = 'x-heatwatch-signature';
export const KIND_HEADER = 'x-heatwatch-kind';

/** `sha256=<hex>` of HMAC-SHA256(secret, body): what a receiver recomputes to trust a delivery. */
export const signBody = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;

/** Wait before attempt `attempts + 1`: doubling from the first backoff, capped. */
export const backoffMs = (attempts: number, cfg: HouseholdsConfig['outbox']): number =>
  Math.min(cfg.maxBackoffMs, cfg.initialBackoffMs * 2 ** Math.max(0, attempts - 1));

/**
 * Delivers the households outbox (work orders, complaints routed, escalations, digests, bulletins)
 * to the configured webhook. Rows are written in the same transaction as the decision that made
 * them, and marked delivered only after a 2xx: a crash between the two sends the row again with the
 * same delivery id, so receivers dedupe by it (at-least-once, exactly-once in effect). Several
 * instances on one database each claim a row before sending it, so while they all live each row is
 * sent once.
 */
export class OutboxDeliverer {
  private timer: TimerHandle | undefined;
  private draining: Promise<number> | undefined;

  constructor(
    private readonly store: HouseholdsStore,
    private readonly cfg: () => HouseholdsConfig['outbox'],
    private readonly secret: string | undefined,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly fetchFn: typeof fetch = fetch,
  ) {}

  start(): void {
    const c = this.cfg();
    if (this.timer || !c.webhookUrl) return;
    if (!this.secret)
      throw new Error(
        'households.outbox.webhookUrl is set but HEATWATCH_WEBHOOK_SECRET is not: deliveries must be signed',
      );
    this.timer = this.clock.setInterval(() => {
      void this.drainOnce().catch((err: unknown) => this.log.error({ err }, 'outbox drain failed'));
    }, c.pollIntervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Attempts every due delivery once; resolves with how many were delivered. One drain at a time. */
  drainOnce(): Promise<number> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(): Promise<number> {
    const c = this.cfg();
    if (!c.webhookUrl || !this.secret) return 0;
    let delivered = 0;
    // One claim per attempt, so a claim only has to outlast one POST (claimMs > timeoutMs), however
    // long the batch: another instance on the same database never sends a row this one is sending.
    for (let i = 0; i < c.batchSize; i++) {
      const start = this.clock.now();
      const [item] = await this.store.outboxClaim(start, 1, start + c.claimMs);
      if (!item) break;
      const error = await this.post(c.webhookUrl, item, c.timeoutMs);
      const now = this.clock.now();
      if (!error) {
        await this.store.outboxDelivered(item.id, now);
        delivered++;
        continue;
      }
      const attempts = item.attempts + 1;
      const dead = attempts >= c.maxAttempts;
      await this.store.outboxFailed(item.id, attempts, now + backoffMs(attempts, c), error, dead);
      this.log[dead ? 'error' : 'warn'](
        { deliveryId: item.id, kind: item.kind, attempts, error },
        dead ? 'webhook delivery dead-lettered' : 'webhook delivery failed; will retry',
      );
    }
    return delivered;
  }

  /** Returns an error text, or undefined when the receiver answered 2xx. */
  private async post(url: string, item: OutboxItem, timeoutMs: number): Promise<string | undefined> {
    const body = JSON.stringify({
      deliveryId: item.id,
      kind: item.kind,
      createdAt: new Date(item.createdTs).toISOString(),
      data: item.body,
    });
    try {
      const res = await this.fetchFn(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [DELIVERY_HEADER]: item.id,
          [KIND_HEADER]: item.kind,
          [SIGNATURE_HEADER]: signBody(this.secret!, body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      return res.ok ? undefined : `receiver answered ${res.status}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
}
