import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import {
  buildDigests,
  type Digest,
  inSeason,
  LogNotifier,
  ReminderScheduler,
  WebhookNotifier,
} from '../../src/tickets/reminders.ts';
import { harness, MIN } from '../rules/fixture.ts';

describe('reminders', () => {
  it('season bounds wrap the new year', () => {
    expect(inSeason(Date.UTC(2026, 0, 15), '11-15', '03-15')).toBe(true);
    expect(inSeason(Date.UTC(2026, 6, 1), '11-15', '03-15')).toBe(false);
    expect(inSeason(Date.UTC(2026, 10, 15), '11-15', '03-15')).toBe(true);
  });

  it('builds a digest per substation of open tickets and cold units, and posts it to the webhook', async () => {
    const h = harness({ rules: { autoApprove: { enabled: false } } });
    await h.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    const d = await buildDigests(h.live, h.tickets, h.engine.rules, h.clock.now());
    expect(d).toHaveLength(1);
    expect(d[0]!.openTickets.map((t) => t.problem)).toContain('building_cold');
    expect(d[0]!.coldUnitsTotal).toBe(12);

    const got: Array<{ digests: Digest[] }> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/digest`;
    const dead = new WebhookNotifier('http://127.0.0.1:9/nothing', 500);
    const r = new ReminderScheduler(
      h.clock,
      h.live,
      h.tickets,
      () => h.engine.rules,
      [new LogNotifier(silentLogger()), new WebhookNotifier(url, 2000), dead],
      silentLogger(),
    );
    const out = await r.runOnce();
    server.close();
    expect(out).toEqual({ sent: 1, failed: ['webhook'] });
    expect(got[0]!.digests[0]!.substationId).toBe('ss');
  });

  it('sends nothing outside the season', async () => {
    const h = harness();
    h.clock.set(Date.UTC(2026, 6, 1));
    const r = new ReminderScheduler(h.clock, h.live, h.tickets, () => h.engine.rules, [], silentLogger());
    expect(await r.runOnce()).toMatchObject({ sent: 0, skipped: 'outside the heating season' });
  });
});
