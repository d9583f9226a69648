import type { MessageKey, Translator } from '../i18n/index.ts';
import type { Bulletin, BulletinSection } from './reports.ts';

const esc = (v: unknown): string =>
  String(v ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const pct = (v: number | null) => (v === null ? '–' : `${Math.round(v * 1000) / 10} %`);

/** One row per heating unit (and the company), the bulletin's main table. */
export function sectionRows(b: Bulletin): Array<Record<string, string | number>> {
  const row = (name: string, s: BulletinSection) => ({
    heatingUnit: name,
    inBandShare: pct(s.compliance.inBandShare),
    degreeHoursBelow18: s.compliance.degreeHoursBelow,
    flats14to16C: s.compliance.flatsLowBand,
    flatsBelow14C: s.compliance.flatsVeryLowBand,
    casesOpened: s.cases.opened,
    casesClosed: s.cases.closed,
    casesOverdue: s.cases.overdue,
    complaints: s.complaints.received,
    ...Object.fromEntries(Object.entries(s.complaints.byClass).map(([k, v]) => [`class_${k}`, v])),
    ...Object.fromEntries(Object.entries(s.complaints.byChannel).map(([k, v]) => [`channel_${k}`, v])),
    ticketsApplied: s.tickets.applied,
    ticketsRechecked: s.tickets.rechecked,
    ticketsResolved: s.tickets.resolved,
    workOrdersLate: s.workOrders.late,
    complaintsClosed: s.rates.complaintsClosed,
    closedShare: pct(s.rates.closedShare),
    closedInTimeShare: pct(s.rates.closedInTimeShare),
    satisfiedShare: pct(s.rates.satisfiedShare),
  });
  return [row('company', b.company), ...b.heatingUnits.map((u) => row(u.name, u))];
}

const csvCell = (v: unknown) => {
  const s = String(v ?? '');
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The catalogue's word for a machine column of the bulletin's tables, for people. */
function columnWord(tr: Translator, col: string): string {
  const [prefix, code] = col.split('_', 2) as [string, string | undefined];
  if (prefix === 'class' && code) return tr.tOr(`complaintClass.${code}`, code);
  if (prefix === 'channel' && code) return tr.tOr(`channel.${code}`, code);
  return tr.tOr(COLUMN_KEYS[col] ?? '', col);
}

const COLUMN_KEYS: Record<string, MessageKey> = {
  heatingUnit: 'bulletin.unit',
  inBandShare: 'bulletin.inBand',
  degreeHoursBelow18: 'bulletin.degreeHours',
  degreeHoursBelow: 'bulletin.degreeHours',
  flats14to16C: 'bulletin.low',
  flatsBelow14C: 'bulletin.veryLow',
  casesOpened: 'bulletin.casesOpened',
  casesClosed: 'bulletin.casesClosed',
  casesOverdue: 'bulletin.casesOverdue',
  complaints: 'bulletin.complaints',
  ticketsApplied: 'bulletin.ticketsApplied',
  ticketsRechecked: 'bulletin.ticketsRechecked',
  ticketsResolved: 'bulletin.ticketsResolved',
  workOrdersLate: 'bulletin.workOrdersLate',
  complaintsClosed: 'bulletin.complaintsClosed',
  closedShare: 'bulletin.closedShare',
  closedInTimeShare: 'bulletin.closedInTimeShare',
  satisfiedShare: 'bulletin.satisfiedShare',
  name: 'col.building',
  buildingId: 'col.building',
  openCases: 'bulletin.openCases',
  kind: 'bulletin.kind',
  where: 'bulletin.where',
};

/**
 * CSV of the bulletin's tables: `table` is `units`, `worst` or `hotspots`. Without a locale the
 * header row holds the stable machine names scripts read; with one, the words for people.
 */
export function bulletinCsv(b: Bulletin, table: 'units' | 'worst' | 'hotspots', tr?: Translator): string {
  const rows: Array<Record<string, unknown>> =
    table === 'units'
      ? sectionRows(b)
      : table === 'worst'
        ? b.worstBuildings
        : [
            ...b.hotspots.buildings.map((h) => ({
              kind: 'building',
              where: h.name,
              complaints: h.complaints,
            })),
            ...b.hotspots.streets.map((h) => ({ kind: 'street', where: h.street, complaints: h.complaints })),
          ];
  const cols = rows.length ? Object.keys(rows[0]!) : ['empty'];
  const head = cols.map((c) => csvCell(tr ? columnWord(tr, c) : c));
  return `${[head.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`;
}

function table(tr: Translator, heads: string[], rows: Array<Array<unknown>>): string {
  if (rows.length === 0) return `<p class="none">${esc(tr.t('common.none'))}</p>`;
  return `<table><thead><tr>${heads.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A printable HTML page of the bulletin in the reader's language and the site's zone (no scripts). */
export function bulletinHtml(b: Bulletin, site: string, tr: Translator): string {
  const c = b.company;
  const t = tr.t;
  const share = (v: number | null) => (v === null ? '–' : tr.pct(v));
  const units = sectionRows(b).map((r, i) => [
    i === 0 ? t('bulletin.company') : r.heatingUnit,
    r.inBandShare,
    r.degreeHoursBelow18,
    r.flats14to16C,
    r.flatsBelow14C,
    `${r.casesOpened} / ${r.casesClosed} / ${r.casesOverdue}`,
    r.complaints,
    `${r.ticketsApplied} / ${r.ticketsRechecked} (${r.ticketsResolved})`,
    `${r.closedShare} / ${r.closedInTimeShare} / ${r.satisfiedShare}`,
  ]);
  const classes = Object.entries(c.complaints.byClass).map(([k, v]) => [tr.tOr(`complaintClass.${k}`, k), v]);
  const channels = Object.entries(c.complaints.byChannel).map(([k, v]) => [tr.tOr(`channel.${k}`, k), v]);
  const worst = b.worstBuildings.map((w) => [
    w.name,
    w.degreeHoursBelow,
    share(w.inBandShare),
    w.complaints,
    w.openCases,
  ]);
  const hot = [
    ...b.hotspots.buildings.map((h) => [t('bulletin.atBuilding', { name: h.name }), h.complaints]),
    ...b.hotspots.streets.map((h) => [t('bulletin.atStreet', { name: h.street }), h.complaints]),
  ];
  const outcomes = c.tickets.outcomes.map((o) => [
    o.id,
    o.targetId,
    o.resolved ? t('common.yes') : t('common.no'),
    o.text,
  ]);
  const summary = t('bulletin.summary', {
    flats: c.compliance.flatsSeen,
    inBand: share(c.compliance.inBandShare),
    low: c.compliance.flatsLowBand,
    veryLow: c.compliance.flatsVeryLowBand,
  });
  return `<!doctype html><html lang="${esc(tr.locale)}"><head><meta charset="utf-8"><title>${esc(t('bulletin.heading', { site }))} ${esc(tr.dateTime(b.ts))}</title>
<style>body{font:14px/1.4 system-ui,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #999;padding:.25em .6em;text-align:right}th:first-child,td:first-child{text-align:left}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}.none{color:#666}@media print{body{margin:0}}</style></head><body>
<h1>${esc(t('bulletin.heading', { site }))}</h1>
<p>${esc(t('bulletin.period', { from: tr.dateTime(b.fromTs), to: tr.dateTime(b.toTs) }))}. ${esc(summary)}</p>
<h2>${esc(t('bulletin.units'))}</h2>${table(tr, [t('bulletin.unit'), t('bulletin.inBand'), t('bulletin.degreeHours'), t('bulletin.low'), t('bulletin.veryLow'), t('bulletin.casesOC'), t('bulletin.complaints'), t('bulletin.tickets'), t('bulletin.rates')], units)}
<h2>${esc(t('bulletin.byClass'))}</h2>${table(tr, [t('cases.class'), t('bulletin.complaints')], classes)}
<h2>${esc(t('bulletin.byChannel'))}</h2>${table(tr, [t('cases.channel'), t('bulletin.complaints')], channels)}
<h2>${esc(t('bulletin.rechecked'))}</h2>${table(tr, [t('bulletin.ticket'), t('bulletin.target'), t('bulletin.resolved'), t('bulletin.outcome')], outcomes)}
<h2>${esc(t('bulletin.worst'))}</h2>${table(tr, [t('col.building'), t('bulletin.degreeHours'), t('bulletin.inBand'), t('bulletin.complaints'), t('bulletin.openCases')], worst)}
<h2>${esc(t('bulletin.hotspotsWindow', { h: b.hotspots.windowH }))}</h2>${table(tr, [t('bulletin.where'), t('bulletin.complaints')], hot)}
</body></html>`;
}
