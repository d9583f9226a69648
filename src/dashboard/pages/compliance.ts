import type { MessageKey } from '../../i18n/index.ts';
import { api, apiBlob, classLabel, fmtC, h, session } from '../core.ts';
import { t, tr } from '../i18n.ts';
import type { Compliance, PageHandle } from '../types.ts';

const pct = (v: number): string => tr().pct(v);
const heads = (keys: MessageKey[]) => h('thead', {}, h('tr', {}, ...keys.map((k) => h('th', {}, t(k)))));

/** Per building, the least compliant first: unit-hours, shares in, below and above the band, mean. */
function buildingsTable(r: Compliance): HTMLElement {
  const rows = [...r.buildings].sort((a, b) => a.inBandShare - b.inBandShare);
  return h(
    'table',
    { class: 'grid', id: 'compliance-table' },
    heads([
      'col.building',
      'col.substation',
      'col.unitHours',
      'col.inBand',
      'col.below',
      'col.above',
      'col.mean',
    ]),
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
  );
}

/** The coldest units: where each is, its classes, its mean and its share below the band. */
function coldestTable(r: Compliance): HTMLElement {
  return h(
    'table',
    { class: 'grid' },
    heads(['col.unit', 'col.building', 'col.floor', 'col.unitNo', 'col.class', 'col.mean', 'col.belowBand']),
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
          h('td', {}, u.classes.map(classLabel).join('+')),
          h('td', { class: 'num' }, fmtC(u.meanC)),
          h('td', { class: 'num' }, pct(u.belowShare)),
        ),
      ),
    ),
  );
}

/** Compliance: share of unit-hours in band per building, the coldest units, CSV export. */
export function compliancePage(root: HTMLElement): PageHandle {
  const days = h(
    'select',
    { 'aria-label': t('compliance.period') },
    h('option', { value: '1' }, t('compliance.day1')),
    h('option', { value: '7', selected: true }, t('compliance.day7')),
    h('option', { value: '30' }, t('compliance.day30')),
  );
  const csv = h('button', { type: 'button', id: 'csv' }, t('compliance.csv'));
  const body = h('div', {});
  root.replaceChildren(h('div', { class: 'bar' }, h('h2', {}, t('compliance.title')), days, csv), body);

  const range = () => {
    const to = session.now();
    return `from=${to - Number(days.value) * 86_400_000}&to=${to}`;
  };

  async function load(): Promise<void> {
    body.replaceChildren(h('p', { class: 'muted' }, t('compliance.computing')));
    const r = await api<Compliance>(`/api/compliance?${range()}`);
    body.replaceChildren(
      h('p', {}, t('compliance.band', { low: tr().tempC(r.bandLowC), high: tr().tempC(r.bandHighC) })),
      buildingsTable(r),
      h('h3', {}, t('compliance.coldest')),
      coldestTable(r),
    );
  }

  csv.addEventListener('click', async () => {
    // The token goes in a header, so the file is fetched and handed to the browser as a blob.
    const blob = await apiBlob(`/api/compliance.csv?${range()}&locale=${tr().locale}`);
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
