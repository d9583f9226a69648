import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HouseholdsModule } from '../../src/households/module.ts';
import { type Harness, TOKENS } from '../http/harness.ts';
import { serverAvailable } from '../support/servers.ts';
import {
  ARTIFACTS,
  CHROMIUM,
  chromiumInstalled,
  dashboardWithHouseholds,
  launchChromium,
} from './support.ts';

const haveChromium = serverAvailable('chromium', chromiumInstalled(), `${CHROMIUM} is not installed`);

describe.runIf(haveChromium)('the dispatcher’s day in Chromium', { timeout: 120_000 }, () => {
  let h: Harness;
  let mod: HouseholdsModule;
  let base: string;
  let browser: Browser;
  let ctx: BrowserContext;

  beforeAll(async () => {
    // A one-hour watch, so the test can see the case close on the injected clock.
    ({ h, mod, base } = await dashboardWithHouseholds({ cases: { watchH: 1 } }));
    const rs = [...h.live.index.sensors.keys()].map((id) => h.reading(id, id === 'n01-6-1' ? 15.8 : 20.4));
    h.live.applyRoom(rs);
    h.bus.emit('roomReadings', rs);
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
    await ctx.addInitScript((t) => sessionStorage.setItem('heatwatch.token', t), TOKENS.operator);
  });

  afterAll(async () => {
    await ctx?.close();
    await browser?.close();
    await mod?.stop();
    await h?.http.app.close();
  });

  it('an operator files a temperature complaint, sees case and task, records a two-person measurement, sees it close', async () => {
    const page: Page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${base}/#/cases`);
    await page.waitForSelector('#complaint-form select[name="building"] option[value="n01"]', {
      state: 'attached',
    });
    await page.selectOption('#complaint-form select[name="building"]', 'n01');
    await page.fill('#complaint-form input[name="floor"]', '6');
    await page.fill('#complaint-form input[name="column"]', '1');
    await page.selectOption('#complaint-form select[name="channel"]', 'hotline');
    await page.selectOption('#complaint-form select[name="cls"]', 'temperature');
    await page.fill('#complaint-form input[name="caller"]', 'Mrs Li');
    await page.fill('#complaint-form textarea[name="text"]', 'Bedroom cold since Monday');
    await page.click('#complaint-form button[type="submit"]');
    await page.waitForSelector('#complaint-form .msg.ok');
    const row = page.locator('#case-list tr', { hasText: 'n01/6-1' });
    await row.waitFor();
    expect(await row.locator('.case-state').textContent()).toBe('measuring');
    // The task's due time is shown relative to now, not as a raw number.
    expect(await row.textContent()).not.toMatch(/\d{13}/);
    await page.screenshot({ path: join(ARTIFACTS, 'households-cases.png'), fullPage: true });

    // The cold flat on the façade links to its case.
    await page.goto(`${base}/#/building/n01`);
    const link = page.locator('.cell[data-sensor="n01-6-1"] .case-link');
    await link.waitFor();
    await link.click();
    await page.waitForSelector('#measure-form');
    expect(await page.locator('#case-state').textContent()).toBe('measuring');

    const temps = page.locator('#measure-form .room-temp');
    await temps.nth(0).fill('19.2');
    await temps.nth(1).fill('18.8');
    await page.fill('#measure-form input[name="staff1"]', 'Wang Wei');
    await page.fill('#measure-form input[name="staff2"]', 'Zhao Min');
    await page.click('#measure-form button[type="submit"]');
    await expect.poll(() => page.locator('#case-state').textContent()).toBe('watching');
    expect(await page.locator('table.data').first().textContent()).not.toMatch(/\d{13}/);

    // The watch period passes on the injected clock; the due check closes the case.
    h.clock.advance(61 * 60_000);
    await mod.service.idle();
    await page.reload();
    await expect.poll(() => page.locator('#case-state').textContent()).toBe('closed');
    await page.screenshot({ path: join(ARTIFACTS, 'households-case.png'), fullPage: true });

    await page.goto(`${base}/#/bulletin`);
    await page.click('#make-bulletin');
    await page.waitForSelector('#bulletin table.data');
    expect(await page.locator('#bulletin').textContent()).toContain('n01');
    await page.screenshot({ path: join(ARTIFACTS, 'households-bulletin.png'), fullPage: true });
    await page.goto(`${base}/#/season`);
    await page.waitForSelector('#season table.data');
    expect(await page.locator('#season tbody tr').first().textContent()).toContain('n01');
    await page.screenshot({ path: join(ARTIFACTS, 'households-season.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
