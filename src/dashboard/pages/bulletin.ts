import { api, apiBlob, fmtTime, h, session } from '../core.ts';
import { t, tr } from '../i18n.ts';
import type { PageHandle } from '../types.ts';
import { errText, say, table } from './cases.ts';

type Section = {
  compliance: {
    flatsSeen: number;
    inBandShare: number | null;
    degreeHoursBelow: number;
    flatsLowBand: number;
    flatsVeryLowBand: number;
  };
  cases: { opened: number; closed: number; overdue: number };
  complaints: { received: number; byClass: Record<string, number>; byChannel: Record<string, number> };
  tickets: { applied: number; rechecked: number; resolved: number };
  rates: { closedShare: number | null; closedInTimeShare: number | null; satisfiedShare: number | null };
};
interface Bulletin {
  id: string;
  fromTs: number;
  toTs: number;
  company: Section;
  heatingUnits: Array<Section & { name: string }>;
  worstBuildings: Array<{
    name: string;
    degreeHoursBelow: number;
    inBandShare: number | null;
    complaints: number;
    openCases: number;
  }>;
  hotspots: {
    buildings: Array<{ name: string; complaints: number }>;
    streets: Array<{ street: string; complaints: number }>;
  };
}

const pct = (v: number | null) => (v === null ? '—' : tr().pct(v));

/** The daily bulletin for people: tables, local times, °C; printable page and CSV beside it. */
export function bulletinPage(root: HTMLElement): PageHandle {
  const msg = h('p', { class: 'msg', role: 'status' });
  const body = h('div', { id: 'bulletin' });
  const make = h('button', { type: 'button', class: 'primary', id: 'make-bulletin' }, t('bulletin.make'));
  root.replaceChildren(h('h2', {}, t('bulletin.title')), session.can('operator') ? make : '', msg, body);
  const open = async (path: string, download?: string) => {
    const url = URL.createObjectURL(await apiBlob(path));
    if (download) h('a', { href: url, download }).click();
    else window.open(url, '_blank', 'noopener');
  };
  function render(b: Bulletin): void {
    const c = b.company;
    const row = (name: string, s: Section) => [
      name,
      pct(s.compliance.inBandShare),
      tr().num(s.compliance.degreeHoursBelow, 1),
      s.compliance.flatsLowBand,
      s.compliance.flatsVeryLowBand,
      `${s.cases.opened} / ${s.cases.closed} / ${s.cases.overdue}`,
      `${s.tickets.applied} / ${s.tickets.rechecked} (${s.tickets.resolved})`,
      `${pct(s.rates.closedShare)} / ${pct(s.rates.closedInTimeShare)} / ${pct(s.rates.satisfiedShare)}`,
    ];
    body.replaceChildren(
      h('p', {}, t('bulletin.period', { from: fmtTime(b.fromTs), to: fmtTime(b.toTs) })),
      h(
        'p',
        {},
        t('bulletin.summary', {
          flats: c.compliance.flatsSeen,
          inBand: pct(c.compliance.inBandShare),
          low: c.compliance.flatsLowBand,
          veryLow: c.compliance.flatsVeryLowBand,
        }),
      ),
      h(
        'p',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            onclick: () => void open(`/api/households/bulletins/${b.id}/html?locale=${tr().locale}`),
          },
          t('bulletin.print'),
        ),
        h(
          'button',
          {
            type: 'button',
            onclick: () =>
              void open(`/api/households/bulletins/${b.id}/csv?locale=${tr().locale}`, `${b.id}.csv`),
          },
          t('bulletin.csv'),
        ),
      ),
      h('h3', {}, t('bulletin.units')),
      table(
        [
          t('bulletin.unit'),
          t('bulletin.inBand'),
          t('bulletin.degreeHours'),
          t('bulletin.low'),
          t('bulletin.veryLow'),
          t('bulletin.casesOC'),
          t('bulletin.tickets'),
          t('bulletin.rates'),
        ],
        [row(t('bulletin.company'), c), ...b.heatingUnits.map((u) => row(u.name, u))],
      ),
      h('h3', {}, t('bulletin.byClass')),
      table(
        [t('cases.class'), t('cases.complaints')],
        Object.entries(c.complaints.byClass).map(([k, v]) => [tr().tOr(`complaintClass.${k}`, k), v]),
      ),
      h('h3', {}, t('bulletin.byChannel')),
      table(
        [t('cases.channel'), t('cases.complaints')],
        Object.entries(c.complaints.byChannel).map(([k, v]) => [tr().tOr(`channel.${k}`, k), v]),
      ),
      h('h3', {}, t('bulletin.worst')),
      table(
        [
          t('cases.building'),
          t('bulletin.degreeHours'),
          t('bulletin.inBand'),
          t('cases.complaints'),
          t('nav.cases'),
        ],
        b.worstBuildings.map((w) => [
          w.name,
          tr().num(w.degreeHoursBelow, 1),
          pct(w.inBandShare),
          w.complaints,
          w.openCases,
        ]),
      ),
      h('h3', {}, t('bulletin.hotspots')),
      table(
        [t('cases.building'), t('cases.complaints')],
        [
          ...b.hotspots.buildings.map((x) => [x.name, x.complaints]),
          ...b.hotspots.streets.map((x) => [x.street, x.complaints]),
        ],
      ),
    );
  }
  const load = async () => {
    try {
      render(await api<Bulletin>('/api/households/bulletins/latest'));
    } catch (err) {
      body.replaceChildren(
        h('p', { class: 'muted' }, errText(err).includes('No bulletin') ? t('bulletin.none') : errText(err)),
      );
    }
  };
  make.addEventListener('click', async () => {
    try {
      render(await api<Bulletin>('/api/households/bulletins', { method: 'POST' }));
      msg.textContent = '';
    } catch (err) {
      say(msg, false, errText(err));
    }
  });
  void load();
  return { dispose() {} };
}
