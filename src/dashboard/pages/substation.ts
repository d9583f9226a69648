import type uPlot from 'uplot';
import { timeChart } from '../chart.ts';
import { api, fmtC, h, session, stateLabel } from '../core.ts';
import { t, tr } from '../i18n.ts';
import type { PageHandle, SubstationDetail, SubstationHistory } from '../types.ts';

/** Supply temperature the curve asks for at an outdoor temperature (docs/domain.md "Who heats what"). */
function curveAt(c: SubstationDetail['curve'], outdoorC: number): number {
  const raw = c.refSupplyC + c.slope * (c.refOutdoorC - outdoorC);
  return Math.min(c.maxSupplyC, Math.max(c.minSupplyC, raw));
}

const fact = (label: string, value: string) => h('span', {}, `${label} `, h('b', {}, value));
const withUnit = (key: 'unit.flow' | 'unit.percent', v: number | undefined, digits: number): string =>
  v === undefined ? '—' : t(key, { v: tr().num(v, digits) });

/** The substation's name and what its meter reports now, beside what its curve asks for. */
function renderHead(head: HTMLElement, s: SubstationDetail): void {
  head.replaceChildren(
    h('h2', {}, s.name),
    h(
      'div',
      { class: 'facts' },
      fact(t('substation.supply'), tr().tempC(s.latest?.supplyTempC)),
      fact(t('substation.curve'), tr().tempC(s.curveSupplyC)),
      fact(t('substation.return'), tr().tempC(s.latest?.returnTempC)),
      fact(t('substation.flow'), withUnit('unit.flow', s.latest?.flowM3h, 1)),
      fact(t('substation.valve'), withUnit('unit.percent', s.latest?.valvePct, 0)),
      fact(t('substation.offset'), tr().tempC(s.latest?.supplyOffsetC)),
      fact(t('substation.rooms'), tr().tempC(s.meanC)),
    ),
  );
}

/** A tile per building the substation heats, coloured by state. */
function renderBuildings(buildingsBox: HTMLElement, s: SubstationDetail): void {
  buildingsBox.replaceChildren(
    ...s.buildingList.map((b) =>
      h(
        'a',
        {
          class: `tile st-${b.state}`,
          href: `#/building/${encodeURIComponent(b.id)}`,
          title: stateLabel(b.state),
        },
        h('span', { class: 'name' }, b.name),
        h('span', { class: 'mean' }, fmtC(b.meanC)),
        h('span', { class: 'sub' }, `${t('building.min')} ${fmtC(b.minC)}`),
      ),
    ),
  );
}

/** Supply, curve, return and outdoor temperature over time. */
function supplyChart(timeBox: HTMLElement, hist: SubstationHistory): uPlot {
  return timeChart(
    timeBox,
    hist.points.map((p) => p.ts),
    [
      {
        spec: { label: t('chart.supply'), colour: '#e05050', right: true },
        ys: hist.points.map((p) => p.supplyTempC),
      },
      {
        spec: { label: t('chart.curve'), colour: '#f0c040', right: true, dash: [6, 4] },
        ys: hist.points.map((p) => p.curveSupplyC ?? null),
      },
      {
        spec: { label: t('chart.return'), colour: '#c080c0', right: true },
        ys: hist.points.map((p) => p.returnTempC),
      },
      {
        spec: { label: t('chart.outdoor'), colour: '#8899aa', right: true, dash: [2, 3] },
        ys: hist.points.map((p) => p.outdoorTempC ?? null),
      },
    ],
  );
}

/** Scatter of actual supply at each outdoor temperature over the curve line; none without outdoor data. */
function curveChart(curveBox: HTMLElement, s: SubstationDetail, hist: SubstationHistory): uPlot | undefined {
  const withOutdoor = hist.points.filter((p) => p.outdoorTempC !== undefined);
  if (withOutdoor.length === 0) return undefined;
  const grid = new Set<number>(withOutdoor.map((p) => Math.round(p.outdoorTempC! * 10) / 10));
  for (let t = -25; t <= 15; t += 1) grid.add(t);
  const ox = [...grid].sort((a, b) => a - b);
  const actual = new Map<number, number>();
  for (const p of withOutdoor) actual.set(Math.round(p.outdoorTempC! * 10) / 10, p.supplyTempC);
  return timeChart(
    curveBox,
    ox,
    [
      {
        spec: { label: t('chart.curve'), colour: '#f0c040', right: true },
        ys: ox.map((t) => curveAt(s.curve, t)),
      },
      {
        spec: { label: t('chart.actualSupply'), colour: '#e05050', right: true, points: true },
        ys: ox.map((t) => actual.get(t) ?? null),
      },
    ],
    { xIsTime: false, xLabel: t('chart.outdoorAxis') },
  );
}

/**
 * Substation view: the heating curve against the supply temperature actually delivered — over time,
 * and as supply against outdoor temperature (the curve self-audit).
 */
export function substationPage(root: HTMLElement, id: string): PageHandle {
  const plots: uPlot[] = [];
  const head = h('div', { class: 'bhead' });
  const timeBox = h('div', { class: 'chart', id: 'supply-chart' });
  const curveBox = h('div', { class: 'chart', id: 'curve-chart' });
  const buildingsBox = h('div', { class: 'tiles' });
  root.replaceChildren(
    head,
    h('h3', {}, t('substation.supplyTitle')),
    timeBox,
    h('h3', {}, t('substation.curveTitle')),
    curveBox,
    h('h3', {}, t('substation.buildings')),
    buildingsBox,
  );

  async function load(): Promise<void> {
    const s = await api<SubstationDetail>(`/api/substations/${encodeURIComponent(id)}`);
    renderHead(head, s);
    renderBuildings(buildingsBox, s);
    const to = session.now();
    let hist: SubstationHistory;
    try {
      hist = await api<SubstationHistory>(
        `/api/substations/${encodeURIComponent(id)}/history?from=${to - 48 * 3_600_000}&to=${to}`,
      );
    } catch (e) {
      timeBox.replaceChildren(
        h('p', { class: 'error' }, t('building.historyUnavailable', { message: (e as Error).message })),
      );
      return;
    }
    for (const p of plots.splice(0)) p.destroy();
    timeBox.replaceChildren();
    curveBox.replaceChildren();
    if (hist.points.length === 0) {
      timeBox.append(h('p', { class: 'muted' }, t('substation.noMeter')));
      return;
    }
    plots.push(supplyChart(timeBox, hist));
    const curve = curveChart(curveBox, s, hist);
    if (curve) plots.push(curve);
  }
  void load().catch((e) => root.replaceChildren(h('p', { class: 'error' }, (e as Error).message)));
  const timer = window.setInterval(() => void load().catch(() => undefined), 60_000);
  return {
    dispose() {
      clearInterval(timer);
      for (const p of plots) p.destroy();
    },
  };
}
