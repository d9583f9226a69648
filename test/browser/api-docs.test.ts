import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.ts';
import { type Harness, makeHarness, TOKENS } from '../http/harness.ts';
import { serverAvailable } from '../support/servers.ts';
import { ARTIFACTS, CHROMIUM, chromiumInstalled, launchChromium } from './support.ts';

const haveChromium = serverAvailable('chromium', chromiumInstalled(), `${CHROMIUM} is not installed`);

/** Issue #21: Swagger UI at /api/docs renders under heatwatch's CSP, without a token; "try it out" with one. */
describe.runIf(haveChromium)('Swagger UI in Chromium', { timeout: 90_000 }, () => {
  let h: Harness;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    h = await makeHarness({ wallClock: systemClock(), http: { rateLimitPerMin: 100_000 } });
    await h.http.app.listen({ port: 0, host: '127.0.0.1' });
    const addr = h.http.app.server.address();
    base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.http.app.close();
  });

  it('renders every route, with no CSP violation, and tries GET /api/me with a bearer token', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1800 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${base}/api/docs`);
    await page.waitForSelector('.opblock', { timeout: 30_000 });
    const blocks = await page.locator('.opblock').count();
    expect(blocks).toBe(h.http.routes.length);
    expect(await page.locator('.info .title').innerText()).toContain('heatwatch API');
    await page.screenshot({ path: join(ARTIFACTS, 'api-docs.png'), fullPage: false });

    // Authorize with a token, then try GET /api/me.
    await page.locator('.btn.authorize').click();
    await page.locator('.modal-ux input').first().fill(TOKENS.viewer);
    await page.locator('.modal-ux .btn.modal-btn.auth.authorize').click();
    await page.locator('.modal-ux .btn-done, .modal-ux .close-modal').first().click();
    const me = page.locator('#operations-service-get_api_me');
    await me.locator('.opblock-summary').click();
    await me.locator('.try-out__btn').click();
    await me.locator('.execute').click();
    const status = me.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor({ timeout: 15_000 });
    const live = await status.innerText();
    expect(live.trim()).toBe('200');
    expect(await me.locator('.live-responses-table .microlight').first().innerText()).toContain('vera');
    await page.screenshot({ path: join(ARTIFACTS, 'api-docs-try.png'), fullPage: false });
    // Every $ref of the document resolves (Swagger UI lists resolver errors in a box at the top).
    expect(await page.locator('.errors-wrapper').count()).toBe(0);
    expect(
      errors.filter((e) => /Content Security Policy|Refused/i.test(e)),
      errors.join('\n'),
    ).toEqual([]);
    await ctx.close();
  });
});
