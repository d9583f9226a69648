import type { Bulletin, BulletinSection } from './reports.ts';

const esc = (v: unknown): string =>
  String(v ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const pct = (v: number | null) => (v === null ? '–' : `${Math.round(v * 1000) / 10} %`);

/** The time in the site's zone, as people read it (no epoch numbers). */
export const localTime = (ts: number, timeZone?: string): string =>
  new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(
    new Date(ts),
  );

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

/** CSV of the bulletin's tables: `table` is `units`, `worst` or `hotspots`. */
export function bulletinCsv(b: Bulletin, table: 'units' | 'worst' | 'hotspots'): string {
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
  return `${[cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n')}\n`;
}

function table(rows: Array<Record<string, unknown>>, heads?: Record<string, string>): string {
  if (rows.length === 0) return '<p class="none">None.</p>';
  const cols = Object.keys(rows[0]!);
  return `<table><thead><tr>${cols.map((c) => `<th>${esc(heads?.[c] ?? c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${cols.map((c) => `<td>${esc(r[c])}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A printable HTML page of the bulletin (self-contained, no scripts). */
export function bulletinHtml(b: Bulletin, site: string, timeZone?: string): string {
  const c = b.company;
  const units = sectionRows(b).map((r) => ({
    'Heating unit': r.heatingUnit,
    'In band': r.inBandShare,
    'Degree-hours < 18 °C': r.degreeHoursBelow18,
    'Flats 14–16 °C': r.flats14to16C,
    'Flats < 14 °C': r.flatsBelow14C,
    'Cases opened': r.casesOpened,
    'Cases closed': r.casesClosed,
    'Cases overdue': r.casesOverdue,
    Complaints: r.complaints,
    'Tickets applied': r.ticketsApplied,
    'Re-checked (resolved)': `${r.ticketsRechecked} (${r.ticketsResolved})`,
    'Closed / in time / satisfied': `${r.closedShare} / ${r.closedInTimeShare} / ${r.satisfiedShare}`,
  }));
  const classes = Object.entries(c.complaints.byClass).map(([k, v]) => ({ Class: k, Complaints: v }));
  const channels = Object.entries(c.complaints.byChannel).map(([k, v]) => ({ Channel: k, Complaints: v }));
  const worst = b.worstBuildings.map((w) => ({
    Building: w.name,
    'Degree-hours < 18 °C': w.degreeHoursBelow,
    'In band': pct(w.inBandShare),
    Complaints: w.complaints,
    'Open cases': w.openCases,
  }));
  const hot = [
    ...b.hotspots.buildings.map((h) => ({ Where: `building ${h.name}`, Complaints: h.complaints })),
    ...b.hotspots.streets.map((h) => ({ Where: `street ${h.street}`, Complaints: h.complaints })),
  ];
  const outcomes = c.tickets.outcomes.map((o) => ({
    Ticket: o.id,
    Target: o.targetId,
    Resolved: o.resolved ? 'yes' : 'no',
    Outcome: o.text,
  }));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>heatwatch bulletin ${esc(localTime(b.ts, timeZone))}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #999;padding:.25em .6em;text-align:right}th:first-child,td:first-child{text-align:left}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.5em}.none{color:#666}@media print{body{margin:0}}</style></head><body>
<h1>Daily bulletin — ${esc(site)}</h1>
<p>${esc(localTime(b.fromTs, timeZone))} to ${esc(localTime(b.toTs, timeZone))}. Flats seen: ${c.compliance.flatsSeen}, ${c.compliance.unitHours} unit-hours;
in band ${pct(c.compliance.inBandShare)}; ${c.compliance.flatsLowBand} flats at 14–16 °C and ${c.compliance.flatsVeryLowBand} below 14 °C (refund bands).</p>
<h2>Heating units</h2>${table(units)}
<h2>Complaints by class</h2>${table(classes)}
<h2>Complaints by channel</h2>${table(channels)}
<h2>Tickets re-checked</h2>${table(outcomes)}
<h2>Worst buildings</h2>${table(worst)}
<h2>Repeat hotspots (last ${b.hotspots.windowH} h)</h2>${table(hot)}
</body></html>`;
}
