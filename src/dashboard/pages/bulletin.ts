import type { MessageKey } from '../../i18n/index.ts';
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
const headings = (...keys: MessageKey[]): string[] => keys.map((k) => t(k));

/** Fetches a file with the token and opens it in a new tab, or saves it under `download`. */
async function openFile(path: string, download?: string): Promise<void> {
  const url = URL.createObjectURL(await apiBlob(path));
  if (download) h('a', { href: url, download }).click();
  else window.open(url, '_blank', 'noopener');
}

/** The period, the company's figures in a sentence, and the printable page and CSV. */
function summary(b: Bulletin): HTMLElement[] {
  const c = b.company.compliance;
  return [
    h('p', {}, t('bulletin.period', { from: fmtTime(b.fromTs), to: fmtTime(b.toTs) })),
    h(
      'p',
      {},
      t('bulletin.summary', {
        flats: c.flatsSeen,
        inBand: pct(c.inBandShare),
        low: c.flatsLowBand,
        veryLow: c.flatsVeryLowBand,
      }),
    ),
    h(
      'p',
      { class: 'actions' },
      h(
        'button',
        {
          type: 'button',
          onclick: () => void openFile(`/api/households/bulletins/${b.id}/html?locale=${tr().locale}`),
        },
        t('bulletin.print'),
      ),
      h(
        'button',
        {
          type: 'button',
          onclick: () =>
            void openFile(`/api/households/bulletins/${b.id}/csv?locale=${tr().locale}`, `${b.id}.csv`),
        },
        t('bulletin.csv'),
      ),
    ),
  ];
}

/** One row of the heating-unit table: compliance, cases, tickets and rates of a section. */
const sectionRow = (name: string, s: Section) => [
  name,
  pct(s.compliance.inBandShare),
  tr().num(s.compliance.degreeHoursBelow, 1),
  s.compliance.flatsLowBand,
  s.compliance.flatsVeryLowBand,
  `${s.cases.opened} / ${s.cases.closed} / ${s.cases.overdue}`,
  `${s.tickets.applied} / ${s.tickets.rechecked} (${s.tickets.resolved})`,
  `${pct(s.rates.closedShare)} / ${pct(s.rates.closedInTimeShare)} / ${pct(s.rates.satisfiedShare)}`,
];

/** The company and each heating unit, then complaints by class and by channel. */
function unitTables(b: Bulletin): HTMLElement[] {
  const c = b.company;
  return [
    h('h3', {}, t('bulletin.units')),
    table(
      headings(
        'bulletin.unit',
        'bulletin.inBand',
        'bulletin.degreeHours',
        'bulletin.low',
        'bulletin.veryLow',
        'bulletin.casesOC',
        'bulletin.tickets',
        'bulletin.rates',
      ),
      [sectionRow(t('bulletin.company'), c), ...b.heatingUnits.map((u) => sectionRow(u.name, u))],
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
  ];
}

/** The worst buildings and the complaint hotspots (buildings, then streets). */
function buildingTables(b: Bulletin): HTMLElement[] {
  return [
    h('h3', {}, t('bulletin.worst')),
    table(
      headings('cases.building', 'bulletin.degreeHours', 'bulletin.inBand', 'cases.complaints', 'nav.cases'),
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
  ];
}

/** The daily bulletin for people: tables, local times, °C; printable page and CSV beside it. */
export function bulletinPage(root: HTMLElement): PageHandle {
  const msg = h('p', { class: 'msg', role: 'status' });
  const body = h('div', { id: 'bulletin' });
  const make = h('button', { type: 'button', class: 'primary', id: 'make-bulletin' }, t('bulletin.make'));
  root.replaceChildren(h('h2', {}, t('bulletin.title')), session.can('operator') ? make : '', msg, body);
  const render = (b: Bulletin) => body.replaceChildren(...summary(b), ...unitTables(b), ...buildingTables(b));
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
