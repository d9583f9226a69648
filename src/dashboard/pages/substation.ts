import type uPlot from 'uplot';
import { timeChart } from '../chart.ts';
import { api, fmtC, h, STATE_LABEL, session } from '../core.ts';
import type { PageHandle, SubstationDetail, SubstationHistory } from '../types.ts';

/** Supply temperature the curve asks for at an outdoor temperature (docs/domain.md "Who heats what"). */
function curveAt(c: SubstationDetail['curve'], outdoorC: number): number {
  const raw = c.refSupplyC + c.slope * (c.refOutdoorC - outdoorC);
  return Math.min(c.maxSupplyC, Math.max(c.minSupplyC, raw));
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
    h('h3', {}, 'Supply: actual against the heating curve (last 48 h)'),
    timeBox,
    h('h3', {}, 'Heating curve: supply against outdoor temperature'),
    curveBox,
    h('h3', {}, 'Buildings'),
    buildingsBox,
  );

  async function load(): Promise<void> {
    const s = await api<SubstationDetail>(`/api/substations/${encodeURIComponent(id)}`);
    head.replaceChildren(
      h('h2', {}, s.name),
      h(
        'div',
        { class: 'facts' },
        h('span', {}, 'supply ', h('b', {}, fmtC(s.latest?.supplyTempC))),
        h('span', {}, 'curve ', h('b', {}, fmtC(s.curveSupplyC))),
        h('span', {}, 'return ', h('b', {}, fmtC(s.latest?.returnTempC))),
        h('span', {}, `flow ${s.latest?.flowM3h?.toFixed(1) ?? '—'} m³/h`),
        h('span', {}, `valve ${s.latest?.valvePct?.toFixed(0) ?? '—'} %`),
        h('span', {}, `offset ${fmtC(s.latest?.supplyOffsetC)}`),
        h('span', {}, `rooms ${fmtC(s.meanC)}`),
      ),
    );
    buildingsBox.replaceChildren(
      ...s.buildingList.map((b) =>
        h(
          'a',
          {
            class: `tile st-${b.state}`,
            href: `#/building/${encodeURIComponent(b.id)}`,
            title: STATE_LABEL[b.state],
          },
          h('span', { class: 'name' }, b.name),
          h('span', { class: 'mean' }, fmtC(b.meanC)),
          h('span', { class: 'sub' }, `min ${fmtC(b.minC)}`),
        ),
      ),
    );
    const to = session.now();
    let hist: SubstationHistory;
    try {
      hist = await api<SubstationHistory>(
        `/api/substations/${encodeURIComponent(id)}/history?from=${to - 48 * 3_600_000}&to=${to}`,
      );
    } catch (e) {
      timeBox.replaceChildren(h('p', { class: 'error' }, `History unavailable: ${(e as Error).message}`));
      return;
    }
    for (const p of plots.splice(0)) p.destroy();
    timeBox.replaceChildren();
    curveBox.replaceChildren();
    if (hist.points.length === 0) {
      timeBox.append(h('p', { class: 'muted' }, 'No meter readings in the last 48 h.'));
      return;
    }
    const xs = hist.points.map((p) => p.ts);
    plots.push(
      timeChart(timeBox, xs, [
        {
          spec: { label: 'supply', colour: '#e05050', right: true },
          ys: hist.points.map((p) => p.supplyTempC),
        },
        {
          spec: { label: 'curve', colour: '#f0c040', right: true, dash: [6, 4] },
          ys: hist.points.map((p) => p.curveSupplyC ?? null),
        },
        {
          spec: { label: 'return', colour: '#c080c0', right: true },
          ys: hist.points.map((p) => p.returnTempC),
        },
        {
          spec: { label: 'outdoor', colour: '#8899aa', right: true, dash: [2, 3] },
          ys: hist.points.map((p) => p.outdoorTempC ?? null),
        },
      ]),
    );
    // Scatter of actual supply at each outdoor temperature over the curve line.
    const withOutdoor = hist.points.filter((p) => p.outdoorTempC !== undefined);
    if (withOutdoor.length > 0) {
      const grid = new Set<number>(withOutdoor.map((p) => Math.round(p.outdoorTempC! * 10) / 10));
      for (let t = -25; t <= 15; t += 1) grid.add(t);
      const ox = [...grid].sort((a, b) => a - b);
      const actual = new Map<number, number>();
      for (const p of withOutdoor) actual.set(Math.round(p.outdoorTempC! * 10) / 10, p.supplyTempC);
      plots.push(
        timeChart(
          curveBox,
          ox,
          [
            {
              spec: { label: 'curve', colour: '#f0c040', right: true },
              ys: ox.map((t) => curveAt(s.curve, t)),
            },
            {
              spec: { label: 'actual supply', colour: '#e05050', right: true, points: true },
              ys: ox.map((t) => actual.get(t) ?? null),
            },
          ],
          { xIsTime: false, xLabel: 'outdoor °C' },
        ),
      );
    }
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
