import { describe, expect, it } from 'vitest';
import { HOUR, harness, MIN } from './fixture.ts';

describe('re-checks judge a window and wait for data (issue #11 §2)', () => {
  it('a re-check with no fresh readings is deferred and retried, never escalated; then judged on the window', async () => {
    const h = harness();
    await h.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    const t = (await h.tickets.list({ problem: 'building_cold' }))[0]!;
    expect(t.status).toBe('applied');
    // b2 warms up, then its sensors fall silent from 40 h on: nothing fresh at the re-check (48 h).
    await h.run(40 * HOUR, (b, f, c) => (b === 'b2' ? 19.5 : h.healthy(f, c)));
    const step = 5 * MIN;
    for (let s = 0; s < 9 * HOUR; s += step) {
      h.clock.advance(step);
      for (const b of ['b1', 'b3', 'b4']) h.setBuilding(b, h.healthy);
      await h.engine.tick();
      await h.scheduler.runDue();
    }
    const waiting = (await h.tickets.get(t.id))!;
    expect(waiting.ticket.status).toBe('applied');
    expect(waiting.events.map((e) => e.kind)).toContain('deferred');
    expect(waiting.events.some((e) => e.toStatus === 'escalated')).toBe(false);
    // Back on air: the retry judges the mean of the window's hourly samples.
    for (let s = 0; s < 8 * HOUR; s += step) {
      h.clock.advance(step);
      h.setAll((b, f, c) => (b === 'b2' ? 19.4 : h.healthy(f, c)) + ((s / step) % 2) * 0.1);
      await h.engine.tick();
      await h.scheduler.runDue();
    }
    const done = (await h.tickets.get(t.id))!.ticket;
    expect(done.status).toBe('resolved');
    expect(done.outcome?.text).toContain('hourly samples');
  });
});
