import type uPlot from 'uplot';
import { timeChart } from '../chart.ts';
import {
  api,
  classLabel,
  classMark,
  fmtC,
  fmtTime,
  h,
  LiveStream,
  session,
  stateLabel,
  tempColour,
} from '../core.ts';
import { t } from '../i18n.ts';
import type { BuildingDetail, BuildingHistory, LiveReading, PageHandle } from '../types.ts';
import { markCases } from './cases.ts';

const CLASS_ORDER = ['top', 'ground', 'gable', 'middle'] as const;
const CLASS_COLOUR: Record<string, string> = {
  top: '#e07b39',
  ground: '#b08de0',
  gable: '#4fb0e0',
  middle: '#7cc46b',
};

function setCell(cell: HTMLElement, tempC: number | undefined, fresh: boolean, source?: string): void {
  const v = cell.querySelector('.v') as HTMLElement;
  v.textContent = fmtC(tempC);
  cell.style.background = fresh ? tempColour(tempC) : tempColour(undefined);
  cell.classList.toggle('stale', !fresh);
  cell.classList.toggle('manual', source === 'manual');
}

/** The building's name and state, its key figures, and links to its substation and tickets. */
function renderHead(head: HTMLElement, b: BuildingDetail): void {
  head.replaceChildren(
    h('h2', {}, b.name, ' ', h('span', { class: `pill st-${b.state}`, id: 'bstate' }, stateLabel(b.state))),
    h(
      'div',
      { class: 'facts' },
      h('span', {}, `${t('building.mean')} `, h('b', { id: 'bmean' }, fmtC(b.meanC))),
      h('span', {}, `${t('building.min')} `, h('b', {}, fmtC(b.minC))),
      h('span', {}, t('building.fresh', { fresh: b.fresh, sensors: b.sensors })),
      h(
        'a',
        { href: `#/substation/${encodeURIComponent(b.substationId)}` },
        t('building.substation', { id: b.substationId }),
      ),
      h(
        'a',
        { href: `#/tickets?target=${encodeURIComponent(b.id)}` },
        t('building.openTickets', { n: b.openTickets }),
      ),
    ),
  );
}

/** Mean and minimum per position class. */
function renderClasses(classesBox: HTMLElement, b: BuildingDetail): void {
  classesBox.replaceChildren(
    ...CLASS_ORDER.map((c) => {
      const s = b.classes[c];
      return h(
        'div',
        { class: 'cls' },
        h('span', { class: `mark c-${c}` }, classMark(c)),
        h('span', {}, classLabel(c)),
        h('b', {}, fmtC(s?.meanC)),
        h(
          'small',
          {},
          s ? t('building.classFacts', { min: fmtC(s.minC), n: s.count }) : t('building.noData'),
        ),
      );
    }),
  );
}

/** One monitored unit's cell on the façade, registered by sensor so live readings find it. */
function unitCell(u: BuildingDetail['units'][number], floor: number, col: number): HTMLElement {
  const cell = h(
    'div',
    {
      class: 'cell',
      'data-sensor': u.sensorId,
      title: t('building.cell', {
        sensor: u.sensorId,
        floor,
        column: col,
        classes: u.classes.map(classLabel).join('+'),
        time: fmtTime(u.ts),
      }),
    },
    h('span', { class: 'v' }),
    h('span', { class: 'cls-mark' }, u.classes.map(classMark).join('')),
  );
  setCell(cell, u.tempC, u.fresh, u.source);
  return cell;
}

/** The façade: floors × units, top floor first; units without a sensor are marked as such. */
function renderFacade(facade: HTMLElement, b: BuildingDetail, cells: Map<string, HTMLElement>): void {
  const byPos = new Map(b.units.map((u) => [`${u.floor}:${u.column}`, u]));
  facade.style.gridTemplateColumns = `3em repeat(${b.unitsPerFloor}, var(--cell-w))`;
  const frag = document.createDocumentFragment();
  for (let floor = b.floors; floor >= 1; floor--) {
    frag.append(h('div', { class: 'floor' }, String(floor)));
    for (let col = 1; col <= b.unitsPerFloor; col++) {
      const u = byPos.get(`${floor}:${col}`);
      if (!u) {
        frag.append(
          h('div', { class: 'cell none', title: t('building.notMonitored', { floor, column: col }) }),
        );
        continue;
      }
      const cell = unitCell(u, floor, col);
      cells.set(u.sensorId, cell);
      frag.append(cell);
    }
  }
  facade.replaceChildren(frag);
  void markCases(b.id, cells);
}

/** Class means, supply and outdoor temperature on one time grid, for the history chart. */
function historySeries(hist: BuildingHistory): { xs: number[]; series: Parameters<typeof timeChart>[2] } {
  // Buckets of different series are aligned on the same grid (multiples of everyMs).
  const xsSet = new Set<number>();
  for (const p of hist.all) xsSet.add(p.ts);
  for (const p of hist.supply) xsSet.add(p.ts);
  const xs = [...xsSet].sort((a, b) => a - b);
  const at = <T extends { ts: number }>(pts: T[], f: (p: T) => number | undefined) => {
    const m = new Map(pts.map((p) => [p.ts, f(p)]));
    return xs.map((x) => m.get(x) ?? null);
  };
  const series = [
    ...CLASS_ORDER.filter((c) => hist.classes[c]).map((c) => ({
      spec: { label: classLabel(c), colour: CLASS_COLOUR[c]! },
      ys: at(hist.classes[c]!, (p) => p.meanC),
    })),
    {
      spec: { label: t('chart.supply'), colour: '#e05050', right: true },
      ys: at(hist.supply, (p) => p.supplyTempC),
    },
    {
      spec: { label: t('chart.outdoor'), colour: '#8899aa', right: true, dash: [6, 4] },
      ys: at(hist.supply, (p) => p.outdoorTempC),
    },
  ];
  return { xs, series };
}

/** Fetches the last `hours` of history and draws it in place of the chart `chart` holds. */
async function drawHistory(
  chartBox: HTMLElement,
  id: string,
  hours: number,
  chart: { plot?: uPlot },
): Promise<void> {
  try {
    const to = session.now();
    const hist = await api<BuildingHistory>(
      `/api/buildings/${encodeURIComponent(id)}/history?from=${to - hours * 3_600_000}&to=${to}`,
    );
    const { xs, series } = historySeries(hist);
    chart.plot?.destroy();
    chartBox.replaceChildren();
    if (xs.length === 0) chartBox.append(h('p', { class: 'muted' }, t('building.noHistory')));
    else chart.plot = timeChart(chartBox, xs, series);
  } catch (e) {
    chartBox.replaceChildren(
      h('p', { class: 'error' }, t('building.historyUnavailable', { message: (e as Error).message })),
    );
  }
}

/** New readings from the stream: the cell shows the value at once and flashes. */
function showReadings(cells: Map<string, HTMLElement>, readings: LiveReading[]): void {
  for (const r of readings) {
    const cell = cells.get(r.sensorId);
    if (!cell) continue;
    setCell(cell, r.tempC, true, r.source);
    cell.classList.remove('flash');
    void cell.offsetWidth; // restart the flash animation
    cell.classList.add('flash');
  }
}

function showState(state: string): void {
  const pill = document.getElementById('bstate');
  if (pill) {
    pill.className = `pill st-${state}`;
    pill.textContent = stateLabel(state);
  }
}

/**
 * Building view: the façade (floors × units, top floor at the top), coloured by live temperature,
 * each unit marked with its position class; class means; history against supply and outdoor.
 */
export function buildingPage(root: HTMLElement, id: string): PageHandle {
  const cells = new Map<string, HTMLElement>();
  const head = h('div', { class: 'bhead' });
  const classesBox = h('div', { class: 'classes' });
  const facade = h('div', { class: 'facade', id: 'facade' });
  const chartBox = h('div', { class: 'chart', id: 'history-chart' });
  const rangeSel = h(
    'select',
    { 'aria-label': t('building.rangeLabel') },
    h('option', { value: '24' }, t('building.range24')),
    h('option', { value: '48', selected: true }, t('building.range48')),
    h('option', { value: '168' }, t('building.range168')),
  );
  root.replaceChildren(
    head,
    classesBox,
    h('div', { class: 'legend' }, t('building.legend')),
    h('div', { class: 'facade-scroll' }, facade),
    h('h3', {}, t('building.historyTitle'), ' ', rangeSel),
    chartBox,
  );
  const chart: { plot?: uPlot } = {};
  const loadHistory = () => drawHistory(chartBox, id, Number(rangeSel.value), chart);
  rangeSel.addEventListener('change', () => void loadHistory());

  let built = false;
  const refresh = async (facadeToo = false) => {
    const b = await api<BuildingDetail>(`/api/buildings/${encodeURIComponent(id)}`);
    renderHead(head, b);
    renderClasses(classesBox, b);
    if (facadeToo || !built) renderFacade(facade, b, cells);
    built = true;
  };
  // Class means follow the live cells, at most every 2 s (the cells themselves update at once).
  let statsTimer: number | undefined;
  const refreshStatsSoon = () => {
    if (statsTimer !== undefined) return;
    statsTimer = window.setTimeout(() => {
      statsTimer = undefined;
      void refresh().catch(() => undefined);
    }, 2000);
  };
  void refresh()
    .then(loadHistory)
    .catch((e) => root.replaceChildren(h('p', { class: 'error' }, (e as Error).message)));
  // Class means and state come from the server every 30 s; cells update live from the stream.
  const timer = window.setInterval(() => void refresh(true).catch(() => undefined), 30_000);
  const live = new LiveStream(id)
    .on('readings', (d) => {
      showReadings(cells, d.readings);
      refreshStatsSoon();
    })
    .on('building', (s) => {
      if (s.buildingId === id) showState(s.state);
    })
    .on('reset', () => void refresh(true).catch(() => undefined));
  live.open();
  return {
    dispose() {
      clearInterval(timer);
      clearTimeout(statsTimer);
      live.close();
      chart.plot?.destroy();
    },
  };
}
