import { api, apiBlob, fmtC, h, session } from '../core.ts';
import type { Compliance, PageHandle } from '../types.ts';

const pct = (v: number): string => `${(v * 100).toFixed(1)} %`;

/** Compliance: share of unit-hours in band per building, the coldest units, CSV export. */
export function compliancePage(root: HTMLElement): PageHandle {
  const days = h(
    'select',
    { 'aria-label': 'period' },
    h('option', { value: '1' }, 'last day'),
    h('option', { value: '7', selected: true }, 'last 7 days'),
    h('option', { value: '30' }, 'last 30 days'),
  );
  const csv = h('button', { type: 'button', id: 'csv' }, 'Export CSV');
  const body = h('div', {});
  root.replaceChildren(h('div', { class: 'bar' }, h('h2', {}, 'Compliance'), days, csv), body);

  const range = () => {
    const to = session.now();
    return `from=${to - Number(days.value) * 86_400_000}&to=${to}`;
  };

  async function load(): Promise<void> {
    body.replaceChildren(h('p', { class: 'muted' }, 'Computing…'));
    const r = await api<Compliance>(`/api/compliance?${range()}`);
    const rows = [...r.buildings].sort((a, b) => a.inBandShare - b.inBandShare);
    body.replaceChildren(
      h(
        'p',
        {},
        `Band ${fmtC(r.bandLowC)} to ${fmtC(r.bandHighC)}; a unit-hour is one monitored unit for one hour.`,
      ),
      h(
        'table',
        { class: 'grid', id: 'compliance-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['building', 'substation', 'unit-hours', 'in band', 'below', 'above', 'mean'].map((t) =>
              h('th', {}, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...rows.map((b) =>
            h(
              'tr',
              {},
              h('td', {}, h('a', { href: `#/building/${encodeURIComponent(b.buildingId)}` }, b.name)),
              h('td', {}, b.substationId),
              h('td', { class: 'num' }, String(b.unitHours)),
              h(
                'td',
                { class: 'num' },
                h('meter', { min: 0, max: 1, low: 0.9, high: 0.97, optimum: 1, value: b.inBandShare }),
                ` ${pct(b.inBandShare)}`,
              ),
              h('td', { class: 'num' }, pct(b.belowShare)),
              h('td', { class: 'num' }, pct(b.aboveShare)),
              h('td', { class: 'num' }, fmtC(b.meanC)),
            ),
          ),
        ),
      ),
      h('h3', {}, 'Coldest units'),
      h(
        'table',
        { class: 'grid' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['unit', 'building', 'floor', 'unit no.', 'class', 'mean', 'below band'].map((t) =>
              h('th', {}, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...r.coldestUnits.map((u) =>
            h(
              'tr',
              {},
              h('td', {}, u.sensorId),
              h('td', {}, h('a', { href: `#/building/${encodeURIComponent(u.buildingId)}` }, u.buildingId)),
              h('td', { class: 'num' }, String(u.floor)),
              h('td', { class: 'num' }, String(u.column)),
              h('td', {}, u.classes.join('+')),
              h('td', { class: 'num' }, fmtC(u.meanC)),
              h('td', { class: 'num' }, pct(u.belowShare)),
            ),
          ),
        ),
      ),
    );
  }

  csv.addEventListener('click', async () => {
    // The token goes in a header, so the file is fetched and handed to the browser as a blob.
    const blob = await apiBlob(`/api/compliance.csv?${range()}`);
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: 'heatwatch-compliance.csv' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  days.addEventListener(
    'change',
    () => void load().catch((e) => body.replaceChildren(h('p', { class: 'error' }, e.message))),
  );
  void load().catch((e) => body.replaceChildren(h('p', { class: 'error' }, (e as Error).message)));
  return { dispose() {} };
}
