import { ApiError, api, fmtC, fmtDuration, fmtTime, h, session } from '../core.ts';
import { t, tr } from '../i18n.ts';
import type { CaseRow, PageHandle } from '../types.ts';

const CHANNELS = ['hotline', 'online', 'app', 'visit'];
const CLASSES = ['temperature', 'equipment', 'service', 'fees', 'other'];
const STATES = ['open', 'measuring', 'fixing', 'watching', 'escalated', 'closed'];
export const caseState = (s: string): string => tr().tOr(`caseState.${s}`, s);

/** A small table for people: headers and rows of text or nodes. */
export function table(
  heads: string[],
  rows: Array<Array<Node | string | number>>,
  cls = 'data',
): HTMLElement {
  return h(
    'table',
    { class: cls },
    h('thead', {}, h('tr', {}, ...heads.map((x) => h('th', {}, x)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
  );
}

export const say = (msg: HTMLElement, ok: boolean, text: string): void => {
  msg.className = ok ? 'msg ok' : 'msg error';
  msg.textContent = text;
};
export const errText = (err: unknown): string => (err instanceof ApiError ? err.message : String(err));

/** The supervision list's rows: unit (linked), state, origin, owner, age, due and task times, complaints. */
function caseTable(cases: CaseRow[], now: number): HTMLElement {
  return table(
    [
      t('cases.unit'),
      t('cases.state'),
      t('cases.origin'),
      t('cases.owner'),
      t('cases.opened'),
      t('cases.age'),
      t('cases.due'),
      t('cases.task'),
      t('cases.complaints'),
      t('cases.lastTemp'),
    ],
    cases.map((k) => [
      h('a', { href: `#/cases/${encodeURIComponent(k.id)}`, class: 'case-unit' }, k.unitKey),
      h('span', { class: `case-state s-${k.state}` }, caseState(k.state)),
      tr().tOr(`origin.${k.origin}`, k.origin),
      k.owner,
      fmtTime(k.openedTs),
      tr().duration(k.ageH * 3_600_000),
      h('span', { class: k.overdue ? 'overdue' : '' }, fmtDuration(k.dueTs - now)),
      k.pendingTaskDueTs === undefined
        ? '—'
        : h(
            'span',
            { class: k.pendingTaskDueTs < now ? 'overdue' : '' },
            fmtDuration(k.pendingTaskDueTs - now),
          ),
      k.complaints,
      fmtC(k.lastTempC),
    ]),
  );
}

/**
 * The supervision list (docs/households.md): cases by heating unit, state and overdue, with age
 * and due time; operators take complaints here. Times are the site's, temperatures in °C.
 */
export function casesPage(root: HTMLElement, params: URLSearchParams): PageHandle {
  const unitSel = h(
    'select',
    { name: 'substation', 'aria-label': t('cases.filterUnit') },
    h('option', { value: '' }, t('cases.all')),
  );
  const stateSel = h(
    'select',
    { name: 'state', 'aria-label': t('cases.filterState') },
    h('option', { value: '' }, t('cases.all')),
    ...STATES.map((s) => h('option', { value: s }, caseState(s))),
  );
  const overdue = h('input', { type: 'checkbox', name: 'overdue' });
  const list = h('div', { id: 'case-list' });
  stateSel.value = params.get('state') ?? '';
  overdue.checked = params.get('overdue') === '1';
  const filters = h(
    'div',
    { class: 'filters' },
    h('label', {}, t('cases.filterUnit'), ' ', unitSel),
    h('label', {}, t('cases.filterState'), ' ', stateSel),
    h('label', {}, overdue, ' ', t('cases.overdueOnly')),
  );
  root.replaceChildren(h('h2', {}, t('cases.title')), filters, list);
  if (session.can('operator')) root.append(complaintForm(() => void load()));

  async function load(): Promise<void> {
    const q = new URLSearchParams();
    if (unitSel.value) q.set('substation', unitSel.value);
    if (stateSel.value) q.set('state', stateSel.value);
    if (overdue.checked) q.set('overdue', '1');
    try {
      const { cases, now } = await api<{ cases: CaseRow[]; now: number }>(`/api/households/cases?${q}`);
      if (cases.length === 0) return void list.replaceChildren(h('p', { class: 'muted' }, t('cases.none')));
      list.replaceChildren(caseTable(cases, now));
    } catch (err) {
      list.replaceChildren(h('p', { class: 'error' }, errText(err)));
    }
  }
  void api<{ substations: Array<{ id: string; name: string }> }>('/api/substations').then(
    ({ substations }) => {
      unitSel.append(...substations.map((s) => h('option', { value: s.id }, s.name)));
      unitSel.value = params.get('substation') ?? '';
    },
  );
  for (const el of [unitSel, stateSel, overdue]) el.addEventListener('change', () => void load());
  void load();
  const timer = window.setInterval(() => void load(), 30_000);
  return { dispose: () => window.clearInterval(timer) };
}

/** A floor or unit number of the complaining household. */
const unitNumber = (name: string) =>
  h('input', { name, type: 'number', min: '1', max: '200', required: true, inputmode: 'numeric' });

/** The complaint form's fields: where the household lives, how and why it called, and who. */
function complaintFields() {
  return {
    building: h('select', { name: 'building', required: true, 'aria-label': t('cases.building') }),
    floor: unitNumber('floor'),
    column: unitNumber('column'),
    channel: h(
      'select',
      { name: 'channel' },
      ...CHANNELS.map((c) => h('option', { value: c }, tr().tOr(`channel.${c}`, c))),
    ),
    cls: h(
      'select',
      { name: 'cls' },
      ...CLASSES.map((c) => h('option', { value: c }, tr().tOr(`complaintClass.${c}`, c))),
    ),
    caller: h('input', { name: 'caller', required: true, autocomplete: 'off' }),
    text: h('textarea', { name: 'text', rows: 2, required: true }),
  };
}
type ComplaintFields = ReturnType<typeof complaintFields>;

/** Files the complaint and says what came of it: the complaint alone, or the case and its task's due time. */
async function fileComplaint(f: ComplaintFields, msg: HTMLElement, done: () => void): Promise<void> {
  try {
    const r = await api<{
      complaint: { id: string };
      case?: { id: string; state: string };
      task?: { dueTs: number };
    }>('/api/households/complaints', {
      method: 'POST',
      body: {
        buildingId: f.building.value,
        floor: Number(f.floor.value),
        column: Number(f.column.value),
        channel: f.channel.value,
        cls: f.cls.value,
        caller: f.caller.value,
        text: f.text.value,
      },
    });
    say(
      msg,
      true,
      r.case
        ? t('cases.filedCase', {
            id: r.complaint.id,
            case: r.case.id,
            state: caseState(r.case.state),
            due: fmtTime(r.task?.dueTs),
          })
        : t('cases.filed', { id: r.complaint.id }),
    );
    done();
  } catch (err) {
    say(msg, false, errText(err));
  }
}

/** Operators take complaints: unit, channel, class, caller and text. */
function complaintForm(done: () => void): HTMLElement {
  const f = complaintFields();
  const msg = h('p', { class: 'msg', role: 'status' });
  const field = (label: string, el: HTMLElement) => h('label', {}, h('span', {}, label), el);
  const form = h(
    'form',
    { class: 'manual', id: 'complaint-form' },
    h('h3', {}, t('cases.complaintTitle')),
    field(t('cases.building'), f.building),
    field(t('cases.floor'), f.floor),
    field(t('cases.column'), f.column),
    field(t('cases.channel'), f.channel),
    field(t('cases.class'), f.cls),
    field(t('cases.caller'), f.caller),
    field(t('cases.text'), f.text),
    h('button', { type: 'submit', class: 'primary' }, t('cases.fileComplaint')),
    msg,
  );
  void api<{ buildings: Array<{ id: string; name: string }> }>('/api/buildings').then(({ buildings }) =>
    f.building.replaceChildren(...buildings.map((b) => h('option', { value: b.id }, `${b.name} (${b.id})`))),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void fileComplaint(f, msg, done);
  });
  return form;
}

/** Marks the façade's cells whose unit has an open case with a link to it. */
export async function markCases(buildingId: string, cells: Map<string, HTMLElement>): Promise<void> {
  let cases: CaseRow[];
  try {
    cases = (await api<{ cases: CaseRow[] }>('/api/households/cases')).cases;
  } catch {
    return; // households not installed, or no right to read: the façade stays as it is
  }
  for (const k of cases) {
    const cell = k.buildingId === buildingId && k.sensorId ? cells.get(k.sensorId) : undefined;
    if (!cell || cell.querySelector('.case-link')) continue;
    cell.classList.add('has-case');
    cell.append(
      h(
        'a',
        {
          class: 'case-link',
          href: `#/cases/${encodeURIComponent(k.id)}`,
          title: t('cases.caseLink', { id: k.id }),
        },
        '●',
      ),
    );
  }
}
