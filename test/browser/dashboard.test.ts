import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { type Harness, makeHarness, TOKENS } from '../http/harness.ts';
import { serverAvailable } from '../support/servers.ts';
import { ARTIFACTS, CHROMIUM, chromiumInstalled, demoMeters, launchChromium } from './support.ts';

const haveChromium = serverAvailable('chromium', chromiumInstalled(), `${CHROMIUM} is not installed`);

/** Gives every sensor of the demo network a plausible temperature, so the overview has colour. */
function populate(h: Harness): void {
  const rs = [];
  let k = 0;
  for (const [id, info] of h.live.index.sensors) {
    const exposed = !info.classes.includes('middle');
    const coldBuilding = info.building.id === 'n03' || info.building.id === 'r02';
    const t = (coldBuilding ? 16.6 : 20.3) - (exposed ? 1.2 : 0) + ((k++ * 37) % 10) / 10;
    rs.push(h.reading(id, Math.round(t * 10) / 10));
  }
  h.live.applyRoom(rs);
  const now = h.clock.now();
  h.live.applyObservation({ stationId: 'city', ts: now, outdoorTempC: -6.4 });
  h.live.applyForecast({
    stationId: 'city',
    issued: now,
    points: Array.from({ length: 12 }, (_, i) => ({
      ts: now + (i + 1) * 3 * 3_600_000,
      outdoorTempC: -6 - i * 0.8,
    })),
  });
  demoMeters(h);
  h.bus.emit('buildingStatus', { buildingId: 'r03', state: 'unbalanced', ts: now });
}

// Generous per-test time: a loaded 2-core machine is slow to start Chromium; the 2 s promises are
// asserted inside the tests themselves.
describe.runIf(haveChromium)('dashboard in Chromium', { timeout: 90_000 }, () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  async function pageAs(role: keyof typeof TOKENS, hash = ''): Promise<Page> {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    contexts.push(ctx);
    await ctx.addInitScript((t) => sessionStorage.setItem('heatwatch.token', t), TOKENS[role]);
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    (page as Page & { errors: string[] }).errors = errors;
    await page.goto(`${base}/#/${hash}`);
    return page;
  }

  beforeAll(async () => {
    h = await makeHarness({ build: true, wallClock: systemClock(), http: { rateLimitPerMin: 100_000 } });
    await h.http.app.listen({ port: 0, host: '127.0.0.1' });
    populate(h);
    h.tickets.add('t-1001', 'n03', 'ss-north');
    h.tickets.add('t-1002', 'ss-river', 'ss-river', 'substation');
    const addr = h.http.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await h?.http.app.close();
  });

  it('the login field stores the token and the overview loads every building', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(`${base}/`);
    await page.fill('#token', TOKENS.viewer);
    await page.click('#login button');
    await page.waitForSelector('.tile');
    expect(await page.locator('.tile').count()).toBe(16);
    expect(await page.locator('#who').textContent()).toContain('viewer');
    expect(await page.evaluate(() => sessionStorage.getItem('heatwatch.token'))).toBe(TOKENS.viewer);
    await page.waitForSelector('#live-dot.on');
    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
    // Search narrows the tiles without a round trip.
    await page.fill('#search', 'r0');
    await expect.poll(() => page.locator('.tile:visible').count()).toBe(4);
    await page.fill('#search', '');
    // A status change pushed on the stream recolours the tile.
    h.bus.emit('buildingStatus', { buildingId: 'e01', state: 'cold', ts: h.clock.now() });
    await page.waitForSelector('.tile[data-id="e01"].st-cold', { timeout: 15_000 });
    expect((page as Page & { errors?: string[] }).errors ?? []).toEqual([]);
  });

  it('a reading appears on the façade within 2 s', async () => {
    const page = await pageAs('viewer', 'building/n01');
    await page.waitForSelector('.cell[data-sensor="n01-6-1"]');
    await page.waitForSelector('#live-dot.on');
    await page.waitForSelector('#history-chart .uplot');
    const t0 = Date.now();
    const r = { ...h.reading('n01-6-1', 12.3), ts: h.clock.now() + 1000 };
    h.live.applyRoom([r]);
    h.bus.emit('roomReadings', [r]);
    await page.waitForFunction(
      () => document.querySelector('.cell[data-sensor="n01-6-1"] .v')?.textContent === '12.3°',
      undefined,
      { timeout: 15_000 },
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    await page.waitForTimeout(900); // let the flash fade before the picture
    await page.screenshot({ path: join(ARTIFACTS, 'facade.png'), fullPage: true });
    expect(await page.locator('.cell:not(.none)').count()).toBe(8);
    expect(await page.locator('.cls').count()).toBe(4);
  });

  it('an operator approves a ticket and its state changes on a second open page', async () => {
    const a = await pageAs('operator', 'tickets');
    const b = await pageAs('operator', 'tickets');
    await a.waitForSelector('[data-ticket="t-1001"] button[data-action="approve"]');
    await b.waitForSelector('[data-ticket="t-1001"] .status');
    await b.waitForSelector('#live-dot.on');
    await a.screenshot({ path: join(ARTIFACTS, 'tickets.png'), fullPage: true });
    await a.click('[data-ticket="t-1001"] button[data-action="approve"]');
    await b.waitForFunction(
      () => document.querySelector('[data-ticket="t-1001"] .status')?.textContent === 'approved',
      undefined,
      { timeout: 15_000 },
    );
    expect(await a.locator('.msg').textContent()).toContain('Approve done');
    expect(h.tickets.tickets.get('t-1001')?.events.at(-1)).toMatchObject({ actor: 'otto', kind: 'approve' });
  });

  it('a viewer sees no action buttons and no manual-reading form', async () => {
    h.tickets.add('t-1003', 'e02', 'ss-east');
    const page = await pageAs('viewer', 'tickets');
    await page.waitForSelector('[data-ticket="t-1003"]');
    expect(await page.locator('button.act').count()).toBe(0);
    await page.evaluate(() => {
      location.hash = '#/manual';
    });
    await page.waitForSelector('main h2:text("Manual measurement")');
    expect(await page.locator('#manual-form').count()).toBe(0);
    const op = await pageAs('operator', 'tickets');
    await op.waitForSelector('[data-ticket="t-1003"] button.act');
    expect(await op.locator('[data-ticket="t-1003"] button.act').count()).toBe(2);
  });

  it('substation and compliance pages render their charts and tables', async () => {
    const page = await pageAs('viewer', 'substation/ss-north');
    await page.waitForSelector('#supply-chart .uplot');
    await page.waitForSelector('#curve-chart .uplot');
    await page.screenshot({ path: join(ARTIFACTS, 'substation.png'), fullPage: true });
    await page.evaluate(() => {
      location.hash = '#/compliance';
    });
    await page.waitForSelector('#compliance-table tbody tr');
    expect(await page.locator('#compliance-table tbody tr').count()).toBe(16);
    await page.screenshot({ path: join(ARTIFACTS, 'compliance.png'), fullPage: true });
  });

  it('an operator records a manual measurement through the form', async () => {
    const page = await pageAs('operator', 'manual');
    await page.waitForSelector('#manual-form select[name="unit"] option', { state: 'attached' });
    await page.fill('.room:nth-child(1) .room-temp', '17.4');
    await page.fill('.room:nth-child(2) .room-temp', '17.0');
    await page.fill('input[name="staff1"]', 'Li Wei');
    await page.fill('input[name="staff2"]', 'Zhang Min');
    await page.click('#manual-form button[type="submit"]');
    await page.waitForSelector('.msg.ok, .msg.error');
    expect(await page.locator('.msg').textContent()).toContain('Recorded 17.2');
    expect(h.manual.received.at(-1)).toMatchObject({ source: 'manual', tempC: 17.2 });
  });
});
