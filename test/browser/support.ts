import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { systemClock } from '../../src/core/clock.ts';
import type { HouseholdsModule } from '../../src/households/module.ts';
import { households } from '../households/support.ts';
import { type Harness, makeHarness } from '../http/harness.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), 'test', 'artifacts');
export const chromiumInstalled = (): boolean => existsSync(CHROMIUM);

/**
 * Debian's Chromium, headless, no sandbox, nothing phoning home. playwright's `launch` refuses a
 * `--user-data-dir` argument and itself starts Chromium on a new empty temporary profile; every
 * test context is a fresh incognito-like context on top of it.
 */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Every substation of the demo network reports the same plausible meter reading now. */
export function demoMeters(h: Harness): void {
  const now = h.clock.now();
  for (const id of h.live.index.substations.keys())
    h.live.applySubstation([
      {
        substationId: id,
        ts: now,
        supplyTempC: 55.2,
        returnTempC: 41.3,
        outdoorTempC: -6.4,
        flowM3h: 38,
        valvePct: 62,
      },
    ]);
}

/**
 * The HTTP harness with the dashboard built, on a real loopback port, with the households module
 * (started) behind its routes; `cfg` adjusts the households config (e.g. a short watch period).
 */
export async function dashboardWithHouseholds(
  cfg: Parameters<typeof households>[0]['cfg'] = {},
): Promise<{ h: Harness; mod: HouseholdsModule; base: string }> {
  let mod: HouseholdsModule | undefined;
  const h = await makeHarness({
    build: true,
    wallClock: systemClock(),
    http: { rateLimitPerMin: 100_000 },
    households: (bus, clock, live) => {
      mod = households({ clock, bus, index: live.index, cfg }).mod;
      return mod;
    },
  });
  await mod!.start();
  await h.http.app.listen({ port: 0, host: '127.0.0.1' });
  const addr = h.http.app.server.address();
  return { h, mod: mod!, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}
