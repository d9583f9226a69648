import { api, fmtC, fmtTime, h, LiveStream, stateLabel } from '../core.ts';
import { t } from '../i18n.ts';
import type { BuildingSummary, PageHandle, SubstationSummary, Weather } from '../types.ts';

const STATES = ['ok', 'cold', 'unbalanced', 'overheated', 'stale'] as const;
const REFRESH_MS = 15_000;

const tileSub = (b: BuildingSummary): string =>
  t('overview.tileSub', { min: fmtC(b.minC), fresh: b.fresh, sensors: b.sensors });

type Filter = { text: string; states: Set<string> };
/** Sections with their tiles and lowercase search keys, built once: filtering touches no DOM query. */
type TileIndex = Array<{ sec: HTMLElement; key: string; tiles: Array<{ el: HTMLElement; key: string }> }>;

/** Shows the tiles that match the search text and the chosen states; a section left empty hides. */
function applyFilter(subsBox: HTMLElement, index: TileIndex, filter: Filter): void {
  let total = 0;
  for (const { sec, key, tiles: ts } of index) {
    const subMatch = filter.text !== '' && key.includes(filter.text);
    let shown = 0;
    for (const t of ts) {
      const ok =
        filter.states.has(t.el.dataset.state ?? '') &&
        (filter.text === '' || subMatch || t.key.includes(filter.text));
      // Only flip what changes: thousands of tiles, few of them move per keystroke.
      if (t.el.hidden === ok) t.el.hidden = !ok;
      if (ok) shown++;
    }
    if (sec.hidden !== (shown === 0)) sec.hidden = shown === 0;
    total += shown;
  }
  subsBox.dataset.shown = String(total);
}

/** The search field; it waits for a pause in typing before it filters. */
function searchField(filter: Filter, refilter: () => void): HTMLInputElement {
  const search = h('input', {
    type: 'search',
    placeholder: t('overview.search'),
    id: 'search',
    'aria-label': t('overview.search'),
  });
  let searchTimer: number | undefined;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => {
      filter.text = search.value.trim().toLowerCase();
      refilter();
    }, 80);
  });
  return search;
}

/** One chip per building state, each toggling that state in the filter. */
function stateChips(filter: Filter, refilter: () => void): HTMLElement {
  const chips = h('div', { class: 'chips' });
  for (const s of STATES) {
    const chip = h('button', { type: 'button', class: `chip st-${s} on`, 'data-state': s }, stateLabel(s));
    chip.addEventListener('click', () => {
      if (filter.states.has(s)) filter.states.delete(s);
      else filter.states.add(s);
      chip.classList.toggle('on', filter.states.has(s));
      refilter();
    });
    chips.append(chip);
  }
  return chips;
}

function tile(b: BuildingSummary): HTMLElement {
  const el = h(
    'a',
    {
      class: `tile st-${b.state}`,
      href: `#/building/${encodeURIComponent(b.id)}`,
      'data-id': b.id,
      'data-state': b.state,
      'data-key': `${b.id} ${b.name}`.toLowerCase(),
      title: `${b.name}: ${stateLabel(b.state)}`,
    },
    h('span', { class: 'name' }, b.name),
    h('span', { class: 'mean' }, fmtC(b.meanC)),
    h('span', { class: 'sub' }, tileSub(b)),
    h('span', { class: 'badge', hidden: b.openTickets === 0 }, String(b.openTickets)),
  );
  return el;
}

function updateTile(el: HTMLElement, b: BuildingSummary): void {
  el.className = `tile st-${b.state}`;
  el.dataset.state = b.state;
  el.title = `${b.name}: ${stateLabel(b.state)}`;
  (el.querySelector('.mean') as HTMLElement).textContent = fmtC(b.meanC);
  (el.querySelector('.sub') as HTMLElement).textContent = tileSub(b);
  const badge = el.querySelector('.badge') as HTMLElement;
  badge.textContent = String(b.openTickets);
  badge.hidden = b.openTickets === 0;
}

function renderCounts(
  countsBox: HTMLElement,
  buildings: BuildingSummary[],
  substations: SubstationSummary[],
): void {
  const counts: Record<string, number> = {};
  for (const b of buildings) counts[b.state] = (counts[b.state] ?? 0) + 1;
  // Per substation: it counts building, unit and substation tickets alike.
  const open = substations.reduce((n, s) => n + s.openTickets, 0);
  countsBox.replaceChildren(
    ...STATES.map((s) =>
      h('div', { class: `count st-${s}` }, h('b', {}, String(counts[s] ?? 0)), h('span', {}, stateLabel(s))),
    ),
    h(
      'a',
      { class: 'count open-tickets', href: '#/tickets' },
      h('b', {}, String(open)),
      h('span', {}, t('overview.openTickets')),
    ),
  );
}

function renderWeather(weatherBox: HTMLElement, w: Weather): void {
  const pts = w.forecast?.points ?? [];
  const min = pts.length ? Math.min(...pts.map((p) => p.outdoorTempC)) : undefined;
  const next = pts.slice(0, 8);
  weatherBox.replaceChildren(
    h(
      'div',
      { class: 'outdoor' },
      h('b', { id: 'outdoor' }, fmtC(w.observation?.outdoorTempC)),
      h('span', {}, t('overview.outdoor')),
    ),
    h(
      'div',
      { class: 'forecast' },
      h('span', {}, t('overview.forecastMin', { t: fmtC(min) })),
      h(
        'span',
        { class: 'fc-points' },
        ...next.map((p) => h('i', { title: fmtTime(p.ts) }, fmtC(p.outdoorTempC, 0))),
      ),
    ),
  );
}

/** A substation's section: its name (linked), a place for its facts, and its buildings' tiles. */
function substationSection(s: SubstationSummary, grid: HTMLElement): HTMLElement {
  return h(
    'section',
    { class: 'sub-section', 'data-sub': s.id, 'data-key': `${s.id} ${s.name}`.toLowerCase() },
    h(
      'h2',
      {},
      h('a', { href: `#/substation/${encodeURIComponent(s.id)}` }, s.name),
      h('span', { class: 'sub-facts', 'data-sub-facts': s.id }),
    ),
    grid,
  );
}

/** Builds every section and tile once (registering the tiles by building) and indexes them for the filter. */
function buildSections(
  subsBox: HTMLElement,
  substations: SubstationSummary[],
  buildings: BuildingSummary[],
  tiles: Map<string, HTMLElement>,
): TileIndex {
  const bySub = new Map<string, BuildingSummary[]>();
  for (const b of buildings) {
    const list = bySub.get(b.substationId) ?? [];
    list.push(b);
    bySub.set(b.substationId, list);
  }
  const frag = document.createDocumentFragment();
  for (const s of substations) {
    const grid = h('div', { class: 'tiles' });
    for (const b of bySub.get(s.id) ?? []) {
      const t = tile(b);
      tiles.set(b.id, t);
      grid.append(t);
    }
    frag.append(substationSection(s, grid));
  }
  subsBox.replaceChildren(frag);
  return [...(subsBox.children as HTMLCollectionOf<HTMLElement>)].map((sec) => ({
    sec,
    key: sec.dataset.key ?? '',
    tiles: [...sec.querySelectorAll<HTMLElement>('.tile')].map((el) => ({
      el,
      key: el.dataset.key ?? '',
    })),
  }));
}

function renderSubstationFacts(subsBox: HTMLElement, substations: SubstationSummary[]): void {
  for (const s of substations) {
    const facts = subsBox.querySelector(`[data-sub-facts="${CSS.escape(s.id)}"]`);
    facts?.replaceChildren(
      h('span', {}, t('overview.subMean', { t: fmtC(s.meanC) })),
      h(
        'span',
        {},
        t('overview.subSupply', { supply: fmtC(s.latest?.supplyTempC), curve: fmtC(s.curveSupplyC) }),
      ),
      h('span', {}, t('overview.subOpen', { n: s.openTickets })),
    );
  }
}

/**
 * Network overview: every substation with its buildings as fixed-size tiles coloured by state.
 * Search and the state filter toggle `hidden` on prebuilt tiles, so they stay fast with thousands.
 */
export function overviewPage(root: HTMLElement): PageHandle {
  const tiles = new Map<string, HTMLElement>();
  const filter: Filter = { text: '', states: new Set<string>(STATES) };
  const weatherBox = h('div', { class: 'weather' });
  const countsBox = h('div', { class: 'counts' });
  const subsBox = h('div', { class: 'subs', id: 'substations' });
  let index: TileIndex = [];
  const refilter = () => applyFilter(subsBox, index, filter);
  root.replaceChildren(
    h('section', { class: 'strip' }, weatherBox, countsBox),
    h('section', { class: 'filters' }, searchField(filter, refilter), stateChips(filter, refilter)),
    subsBox,
  );

  async function load(first: boolean): Promise<void> {
    const [{ substations }, { buildings }, weather] = await Promise.all([
      api<{ substations: SubstationSummary[] }>('/api/substations'),
      api<{ buildings: BuildingSummary[] }>('/api/buildings'),
      api<Weather>('/api/weather'),
    ]);
    renderWeather(weatherBox, weather);
    renderCounts(countsBox, buildings, substations);
    if (first) index = buildSections(subsBox, substations, buildings, tiles);
    else
      for (const b of buildings) {
        const t = tiles.get(b.id);
        if (t) updateTile(t, b);
      }
    renderSubstationFacts(subsBox, substations);
    refilter();
  }

  void load(true).catch((e) => root.prepend(h('p', { class: 'error' }, String(e.message))));
  const timer = window.setInterval(() => void load(false).catch(() => undefined), REFRESH_MS);
  let ticketReload: number | undefined;
  const live = new LiveStream('none')
    .on('building', (s) => {
      const t = tiles.get(s.buildingId);
      if (t) {
        t.className = `tile st-${s.state}`;
        t.dataset.state = s.state;
        refilter();
      }
    })
    .on('ticket', () => {
      clearTimeout(ticketReload);
      ticketReload = window.setTimeout(() => void load(false).catch(() => undefined), 300);
    })
    .on('reset', () => void load(false).catch(() => undefined));
  live.open();
  return {
    dispose() {
      clearInterval(timer);
      live.close();
    },
  };
}
