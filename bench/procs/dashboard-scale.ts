/**
 * How long the overview page takes with 3000 buildings (the same page and steps as
 * test/browser/scale.test.ts, which asserts what the page shows): /api/buildings, page load to every
 * tile, a search keystroke to the filtered grid (80 ms typing debounce included), the state filter.
 * Needs Debian's chromium. Prints one JSON line per round.
 *
 *   node --import tsx bench/procs/dashboard-scale.ts [ROUNDS]
 */
import { runOverview, startBigOverview } from '../../test/browser/overview-scale.ts';
import { chromiumInstalled } from '../../test/browser/support.ts';

if (!chromiumInstalled()) {
  console.log('chromium not installed: dashboard figures skipped');
  process.exit(0);
}
const rounds = Number(process.argv[2] ?? 3);
const o = await startBigOverview();
try {
  for (let i = 0; i < rounds; i++) {
    const r = await runOverview(o, 'block 7-1');
    const ms = (x: number) => Math.round(x);
    console.log(
      JSON.stringify({
        buildings: r.apiBuildings.length,
        apiMs: ms(r.apiMs),
        loadMs: ms(r.loadMs),
        searchMs: ms(r.searchMs),
        chipMs: ms(r.chipMs),
        shownSearch: r.shownSearch,
      }),
    );
  }
} finally {
  await o.close();
}
