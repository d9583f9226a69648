import type { Browser, Page } from 'playwright-core';
import { systemClock } from '../../src/core/clock.ts';
import { type Building, RegistryIndex, type Sensor, type Substation } from '../../src/core/registry.ts';
import { type Harness, makeHarness, TOKENS } from '../http/harness.ts';
import { launchChromium } from './support.ts';

/**
 * The overview page with 3000 buildings (a city-wide dispatch view), shared by
 * test/browser/scale.test.ts (what the page shows) and bench/procs/dashboard-scale.ts (how long it takes).
 */
export const SUBSTATIONS = 40;
export const PER_SUBSTATION = 75; // 3000 buildings

export function bigRegistry(): RegistryIndex {
  const substations: Substation[] = [];
  const buildings: Building[] = [];
  const sensors: Sensor[] = [];
  for (let s = 0; s < SUBSTATIONS; s++) {
    const sid = `ss${s}`;
    substations.push({
      id: sid,
      name: `Estate ${s}`,
      curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 },
    });
    for (let b = 0; b < PER_SUBSTATION; b++) {
      const bid = `b${s}-${b}`;
      buildings.push({ id: bid, name: `Block ${s}-${b}`, substationId: sid, floors: 6, unitsPerFloor: 4 });
      for (const [floor, column] of [
        [1, 2],
        [3, 2],
        [6, 1],
        [6, 3],
      ] as const)
        sensors.push({ id: `${bid}-${floor}-${column}`, buildingId: bid, floor, column, intervalS: 300 });
    }
  }
  return new RegistryIndex({ substations, buildings, sensors });
}

export interface BigOverview {
  h: Harness;
  browser: Browser;
  base: string;
  close(): Promise<void>;
}

/** The HTTP harness over the big network (every sensor reporting) on a loopback port, and Chromium. */
export async function startBigOverview(): Promise<BigOverview> {
  const h = await makeHarness({
    build: true,
    registry: bigRegistry(),
    wallClock: systemClock(),
    http: { rateLimitPerMin: 100_000 },
  });
  h.live.applyRoom([...h.live.index.sensors.keys()].map((id, i) => h.reading(id, 16 + (i % 60) / 10)));
  await h.http.app.listen({ port: 0, host: '127.0.0.1' });
  // The rules' judgement, as the engine announces it: a mix of states across the city.
  const states = ['cold', 'unbalanced', 'overheated', 'stale'] as const;
  [...h.live.index.buildings.keys()].forEach((buildingId, i) => {
    if (i % 3 === 0) h.bus.emit('buildingStatus', { buildingId, state: states[i % 4]!, ts: h.clock.now() });
  });
  const addr = h.http.app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const browser = await launchChromium();
  return {
    h,
    browser,
    base,
    close: async () => {
      await browser.close();
      await h.http.app.close();
    },
  };
}

export interface OverviewRun {
  /** Buildings /api/buildings listed, and their states. */
  apiBuildings: Array<{ id: string; state: string }>;
  apiMs: number;
  /** The page's own count of shown tiles after loading, after a search, after the `ok` chip is switched off. */
  shownLoaded: number;
  shownSearch: number;
  shownSearchNames: string[];
  shownNotOk: number;
  loadMs: number;
  /** Keystroke to filtered grid, the 80 ms typing debounce included. */
  searchMs: number;
  chipMs: number;
}

/** Loads the overview, searches for `query`, clears the search, switches the `ok` chip off. */
export async function runOverview(o: BigOverview, query: string): Promise<OverviewRun> {
  const t0 = performance.now();
  const apiRes = await o.h.http.app.inject({
    url: '/api/buildings',
    headers: { authorization: `Bearer ${TOKENS.viewer}` },
  });
  const apiMs = performance.now() - t0;
  const apiBuildings = (apiRes.json() as { buildings: Array<{ id: string; state: string }> }).buildings;
  const ctx = await o.browser.newContext({ viewport: { width: 1600, height: 1000 } });
  await ctx.addInitScript((t) => sessionStorage.setItem('heatwatch.token', t), TOKENS.viewer);
  try {
    const page = await ctx.newPage();
    const l0 = performance.now();
    await page.goto(`${o.base}/`);
    await page.waitForFunction(
      (n) => document.getElementById('substations')?.dataset.shown === String(n),
      apiBuildings.length,
    );
    const loadMs = performance.now() - l0;
    const shownLoaded = await shown(page);
    const search = await page.evaluate(async (q) => {
      const input = document.getElementById('search') as HTMLInputElement;
      const grid = document.getElementById('substations') as HTMLElement;
      const before = grid.dataset.shown;
      const start = performance.now();
      input.value = q;
      input.dispatchEvent(new Event('input'));
      // The page records how many tiles it shows after each filter pass.
      while (grid.dataset.shown === before) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => requestAnimationFrame(r));
      const names = [...grid.querySelectorAll<HTMLElement>('.tile:not([hidden]) .name')].map(
        (e) => e.textContent ?? '',
      );
      return { ms: performance.now() - start, shown: Number(grid.dataset.shown), names };
    }, query);
    await page.evaluate(() => {
      const input = document.getElementById('search') as HTMLInputElement;
      input.value = '';
      input.dispatchEvent(new Event('input'));
    });
    await page.waitForFunction(
      (n) => document.getElementById('substations')?.dataset.shown === String(n),
      apiBuildings.length,
    );
    const chipMs = await page.evaluate(async () => {
      const start = performance.now();
      (document.querySelector('.chip[data-state="ok"]') as HTMLButtonElement).click();
      await new Promise((r) => requestAnimationFrame(r));
      return performance.now() - start;
    });
    return {
      apiBuildings,
      apiMs,
      shownLoaded,
      shownSearch: search.shown,
      shownSearchNames: search.names,
      shownNotOk: await shown(page),
      loadMs,
      searchMs: search.ms,
      chipMs,
    };
  } finally {
    await ctx.close();
  }
}

const shown = (page: Page): Promise<number> =>
  page.evaluate(() => Number(document.getElementById('substations')?.dataset.shown));
