import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HouseholdsModule } from '../../src/households/module.ts';
import { CATALOGUES, type Locale } from '../../src/i18n/index.ts';
import { type Harness, TOKENS } from '../http/harness.ts';
import { serverAvailable } from '../support/servers.ts';
import {
  ARTIFACTS,
  CHROMIUM,
  chromiumInstalled,
  dashboardWithHouseholds,
  demoMeters,
  launchChromium,
} from './support.ts';

const haveChromium = serverAvailable('chromium', chromiumInstalled(), `${CHROMIUM} is not installed`);
const SHOTS = join(ARTIFACTS, 'i18n');

/**
 * Each page and the element that says it has rendered. No page may scroll sideways on a phone: the
 * measurement form, a case and a façade are used in the flat, the rest by staff on the move.
 */
const PAGES: Array<{ hash: string; ready: string }> = [
  { hash: '', ready: '.tile' },
  { hash: 'building/n01', ready: '.cell[data-sensor]' },
  { hash: 'substation/ss-north', ready: '#supply-chart .uplot' },
  { hash: 'tickets', ready: '[data-ticket] .evidence' },
  { hash: 'compliance', ready: '#compliance-table tbody tr' },
  { hash: 'manual', ready: '#manual-form select[name="unit"] option' },
  { hash: 'cases', ready: '#complaint-form select[name="building"] option' },
  { hash: 'cases/CASE', ready: '#measure-form' },
  { hash: 'bulletin', ready: '#bulletin table.data' },
  { hash: 'season', ready: '#season table.data' },
];
const VIEWPORTS = [
  { name: 'phone', width: 390, height: 844 },
  { name: 'desk', width: 1440, height: 900 },
];
const KEYS = Object.keys(CATALOGUES.en);

function populate(h: Harness): void {
  const now = h.clock.now();
  h.live.applyRoom([...h.live.index.sensors.keys()].map((id, k) => h.reading(id, 17 + ((k * 37) % 50) / 10)));
  h.live.applyObservation({ stationId: 'city', ts: now, outdoorTempC: -6.4 });
  demoMeters(h);
  h.tickets.add('t-2001', 'n03', 'ss-north');
  // An applied ticket whose setpoint the substation has not confirmed: its line is translated too.
  Object.assign(h.tickets.add('t-2002', 'ss-north', 'ss-north', 'substation'), {
    status: 'applied',
    actions: ['close'],
    setpoint: {
      commandId: 't-2002-apply',
      delivery: 'published',
      attempts: 1,
      publishedTs: now,
      sent: { supplyOffsetC: 2 },
      reported: { supplyOffsetC: 0, ts: now },
      confirmation: 'not-confirmed',
      text: 'not confirmed after 15 minutes',
    },
  });
}

describe.runIf(haveChromium)(
  'the dashboard in both languages, on a phone and a dispatch screen',
  { timeout: 180_000 },
  () => {
    let h: Harness;
    let base: string;
    let browser: Browser;
    let mod: HouseholdsModule;
    let caseId = '';
    const contexts: BrowserContext[] = [];

    async function open(
      locale: Locale,
      vp: (typeof VIEWPORTS)[number],
      hash: string,
      role: keyof typeof TOKENS = 'operator',
    ): Promise<Page> {
      const ctx = await browser.newContext({
        viewport: { width: vp.width, height: vp.height },
        locale: 'en-US',
      });
      contexts.push(ctx);
      await ctx.addInitScript(
        ([token, loc]) => {
          sessionStorage.setItem('heatwatch.token', token!);
          localStorage.setItem('heatwatch.locale', loc!);
        },
        [TOKENS[role], locale],
      );
      const page = await ctx.newPage();
      await page.goto(`${base}/#/${hash}`);
      return page;
    }

    beforeAll(async () => {
      ({ h, mod, base } = await dashboardWithHouseholds());
      populate(h);
      // A household complains, so the Cases page, a case and the bulletin have something to show.
      const auth = { authorization: `Bearer ${TOKENS.operator}` };
      const filed = await h.http.app.inject({
        method: 'POST',
        url: '/api/households/complaints',
        headers: auth,
        payload: {
          unit: 'n01/6-1',
          channel: 'hotline',
          cls: 'temperature',
          caller: 'Liu',
          text: 'cold bedroom',
        },
      });
      expect(filed.statusCode, filed.body).toBeLessThan(300);
      caseId = (filed.json() as { case: { id: string } }).case.id;
      const made = await h.http.app.inject({
        method: 'POST',
        url: '/api/households/bulletins',
        headers: auth,
      });
      expect(made.statusCode, made.body).toBeLessThan(300);
      browser = await launchChromium();
      mkdirSync(SHOTS, { recursive: true });
    });

    afterAll(async () => {
      for (const c of contexts) await c.close();
      await browser?.close();
      await mod?.stop();
      await h?.http.app.close();
    });

    for (const locale of ['zh-CN', 'en'] as const)
      for (const vp of VIEWPORTS)
        it(`${locale} at ${vp.width}×${vp.height}: every page renders in ${locale}, with no raw key`, async () => {
          for (const p of PAGES) {
            const page = await open(locale, vp, p.hash.replace('CASE', encodeURIComponent(caseId)));
            await page.waitForSelector(p.ready, { state: 'attached' });
            const text = await page.evaluate(() => document.body.innerText);
            // No catalogue key reaches a person: a missing translation would show as its key.
            expect(
              KEYS.filter((k) => text.includes(k)),
              `${p.hash || 'overview'}`,
            ).toEqual([]);
            expect(await page.getAttribute('html', 'lang')).toBe(locale);
            expect(await page.locator('#nav a').first().textContent()).toBe(
              CATALOGUES[locale]['nav.network'],
            );
            await page.screenshot({
              path: join(
                SHOTS,
                `${locale}-${vp.name}-${p.hash.replace('/', '-').replace('CASE', 'one') || 'overview'}.png`,
              ),
              fullPage: true,
            });
            if (vp.name === 'phone') {
              const overflow = await page.evaluate(
                () => document.documentElement.scrollWidth - window.innerWidth,
              );
              expect(overflow, `${p.hash} scrolls sideways on a phone`).toBeLessThanOrEqual(0);
            }

            await page.context().close();
          }
        });

    it('zh-CN on a phone: a measuring team fills in and submits the two-person measurement', async () => {
      const page = await open('zh-CN', VIEWPORTS[0]!, 'manual');
      await page.waitForSelector('#manual-form select[name="unit"] option', { state: 'attached' });
      expect(await page.locator('#manual-form button[type="submit"]').textContent()).toBe('提交测温记录');
      expect(await page.getAttribute('.room-temp >> nth=0', 'inputmode')).toBe('decimal');
      await page.fill('.room:nth-child(1) .room-temp', '18.6');
      await page.fill('.room:nth-child(2) .room-temp', '18.2');
      await page.fill('input[name="staff1"]', '李伟');
      await page.fill('input[name="staff2"]', '张敏');
      await page.click('#manual-form button[type="submit"]');
      await page.waitForSelector('.msg.ok, .msg.error');
      expect(await page.locator('.msg').textContent()).toContain('已记录');
      expect(h.manual.received.at(-1)).toMatchObject({ source: 'manual', tempC: 18.4 });
      await page.screenshot({ path: join(SHOTS, 'zh-CN-phone-manual-submitted.png'), fullPage: true });
    });

    it('the language chosen in the page wins and stays; the user’s own locale comes from /api/me', async () => {
      const page = await open('en', VIEWPORTS[1]!, 'tickets');
      await page.waitForSelector('[data-ticket="t-2001"]');
      await page.selectOption('#lang', 'zh-CN');
      await page.waitForSelector('main h2:text("调节工单")');
      expect(await page.evaluate(() => localStorage.getItem('heatwatch.locale'))).toBe('zh-CN');
      // Times are in the site's zone whatever the browser's: the harness clock's instant, formatted there.
      const me = await page.evaluate(async () =>
        (
          await fetch('/api/me', {
            headers: { authorization: `Bearer ${sessionStorage.getItem('heatwatch.token')}` },
          })
        ).json(),
      );
      expect(me).toMatchObject({ locale: 'en', timeZone: expect.any(String) });
    });
  },
);
