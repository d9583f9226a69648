import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverAvailable } from '../support/servers.ts';
import { type BigOverview, runOverview, startBigOverview } from './overview-scale.ts';
import { CHROMIUM, chromiumInstalled } from './support.ts';

const haveChromium = serverAvailable('chromium', chromiumInstalled(), `${CHROMIUM} is not installed`);

/**
 * Filter and search work with thousands of buildings (a city-wide dispatch view). How long they take
 * is a figure of `node --import tsx bench/procs/dashboard-scale.ts`, not asserted here.
 */
describe.runIf(haveChromium)('overview with 3000 buildings', { timeout: 90_000 }, () => {
  let o: BigOverview;

  beforeAll(async () => {
    o = await startBigOverview();
  });
  afterAll(async () => {
    await o?.close();
  });

  it('renders every tile; search and the state filter show exactly the matching buildings', async () => {
    const run = await runOverview(o, 'block 7-1');
    expect(run.apiBuildings).toHaveLength(3000);
    expect(run.shownLoaded).toBe(3000);
    // Block 7-1, 7-10..7-19: eleven buildings.
    expect(run.shownSearch).toBe(11);
    expect(run.shownSearchNames.sort()).toEqual(
      ['Block 7-1', ...Array.from({ length: 10 }, (_, i) => `Block 7-1${i}`)].sort(),
    );
    // With the ok chip off, the page shows every building the API says is not ok, and only those.
    const notOk = run.apiBuildings.filter((b) => b.state !== 'ok').length;
    expect(notOk).toBeGreaterThan(0);
    expect(notOk).toBeLessThan(3000);
    expect(run.shownNotOk).toBe(notOk);
  });
});
