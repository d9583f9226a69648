import { api, fmtC, fmtTime, h, session } from '../core.ts';
import { t, tr } from '../i18n.ts';
import { fromSiteLocal, measuredAtInput, roomReadings } from '../measurement-form.ts';
import type { CaseDetail as Detail, PageHandle } from '../types.ts';
import { caseState, errText, say, table } from './cases.ts';

/** The case's state, origin, owner, when it opened, when it is due, and its complaints. */
function caseFacts(k: Detail['case']): HTMLElement {
  return table(
    [
      t('cases.state'),
      t('cases.origin'),
      t('cases.owner'),
      t('cases.opened'),
      t('cases.due'),
      t('cases.complaints'),
    ],
    [
      [
        h('span', { class: `case-state s-${k.state}`, id: 'case-state' }, caseState(k.state)),
        tr().tOr(`origin.${k.origin}`, k.origin),
        k.owner,
        fmtTime(k.openedTs),
        fmtTime(k.dueTs),
        k.complaints,
      ],
    ],
  );
}

/** What the unit's sensor says: the watch period, its temperature now, and its bias against measurements. */
function sensorNotes(d: Detail): HTMLElement[] {
  const k = d.case;
  const notes = [
    k.watchUntilTs ? h('p', {}, t('cases.watchUntil', { time: fmtTime(k.watchUntilTs) })) : null,
    k.sensorId ? h('p', {}, t('cases.sensorNow', { t: tr().tempC(d.sensorTempC) })) : null,
    d.sensorBias
      ? h(
          'p',
          { class: 'warn' },
          t('cases.bias', { b: tr().tempC(d.sensorBias.biasC), n: d.sensorBias.measurements }),
        )
      : null,
  ];
  return notes.filter((x) => x !== null);
}

/** Measurements beside the sensor, then the case's tasks. */
function measurementTables(d: Detail): HTMLElement[] {
  return [
    h('h3', {}, t('cases.measurements')),
    table(
      [t('cases.when'), t('cases.measuredBy'), t('cases.rooms'), t('cases.mean'), t('cases.sensorThen')],
      d.measurements.map((m) => [
        fmtTime(m.ts),
        m.measuredBy.join(', '),
        m.rooms.map((r) => `${r.room} ${tr().tempC(r.tempC)}`).join('; '),
        tr().tempC(m.tempC),
        fmtC(m.sensorTempC),
      ]),
    ),
    h('h3', {}, t('cases.tasks')),
    table(
      [t('cases.state'), t('cases.due'), t('cases.when')],
      d.tasks.map((x) => [x.state, fmtTime(x.dueTs), x.doneTs ? fmtTime(x.doneTs) : '—']),
    ),
  ];
}

/** Work orders (operators record the call-back on a done one), then the case's history. */
function workAndHistory(d: Detail, reload: () => Promise<void>): HTMLElement[] {
  return [
    h('h3', {}, t('cases.workOrders')),
    table(
      [t('cases.type'), t('cases.state'), t('cases.onSiteBy'), t('cases.what'), t('cases.callback')],
      d.workOrders.map((w) => [
        w.type,
        w.late ? `${w.state} (${t('cases.late')})` : w.state,
        fmtTime(w.onSiteDueTs),
        [w.note, w.photoRef].filter(Boolean).join(' · ') || '—',
        w.state === 'done' && session.can('operator') ? callbackForm(w.id, reload) : '—',
      ]),
    ),
    h('h3', {}, t('cases.history')),
    table(
      [t('cases.when'), t('cases.who'), t('cases.what')],
      d.events.map((e) => [
        fmtTime(e.ts),
        e.actor,
        [
          e.toState ? `${e.fromState ? `${caseState(e.fromState)} → ` : ''}${caseState(e.toState)}` : e.kind,
          e.note,
        ]
          .filter(Boolean)
          .join(': '),
      ]),
    ),
  ];
}

/** One case for people: facts, history, measurements beside the sensor, tasks and work orders. */
export function casePage(root: HTMLElement, id: string): PageHandle {
  const load = async () => {
    try {
      render(await api<Detail>(`/api/households/cases/${encodeURIComponent(id)}`));
    } catch (err) {
      root.replaceChildren(h('p', { class: 'error' }, errText(err)));
    }
  };
  function render(d: Detail): void {
    const k = d.case;
    root.replaceChildren(
      h('p', {}, h('a', { href: '#/cases' }, `← ${t('nav.cases')}`)),
      h('h2', {}, t('cases.detailTitle', { id: k.id, unit: k.unitKey })),
      caseFacts(k),
      ...sensorNotes(d),
      ...measurementTables(d),
      ...workAndHistory(d, load),
    );
    if (session.can('operator') && k.state !== 'closed')
      root.append(
        measureForm(k.unitKey, d.tasks.find((x) => x.state === 'pending' || x.state === 'overdue')?.id, load),
      );
  }
  void load();
  return { dispose() {} };
}

/** The two-person measurement: both names, room by room, the time in the site's zone. */
function measureForm(unit: string, taskId: string | undefined, done: () => Promise<void>): HTMLElement {
  const when = measuredAtInput();
  const staff1 = h('input', {
    name: 'staff1',
    required: true,
    placeholder: t('manual.staff1'),
    'aria-label': t('manual.staff1'),
  });
  const staff2 = h('input', {
    name: 'staff2',
    required: true,
    placeholder: t('manual.staff2'),
    'aria-label': t('manual.staff2'),
  });
  const room = (name: string) =>
    h(
      'div',
      { class: 'room' },
      h('input', { class: 'room-name', value: name, required: true }),
      h('input', {
        class: 'room-temp',
        type: 'number',
        step: '0.1',
        min: '-40',
        max: '60',
        inputmode: 'decimal',
        required: true,
        placeholder: '°C',
      }),
    );
  const rooms = h('div', { class: 'rooms' }, room(t('manual.livingRoom')), room(t('manual.bedroom')));
  const msg = h('p', { class: 'msg', role: 'status' });
  const form = h(
    'form',
    { class: 'manual', id: 'measure-form' },
    h('h3', {}, t('cases.measureTitle')),
    h('label', {}, h('span', {}, t('manual.measuredAt')), when),
    h('fieldset', {}, h('legend', {}, t('manual.rooms')), rooms),
    h('fieldset', { class: 'signatures' }, h('legend', {}, t('manual.signedBy')), staff1, staff2),
    h('button', { type: 'submit', class: 'primary' }, t('cases.record')),
    msg,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const r = await api<{ measurement: { tempC: number }; case?: { state: string } }>(
        '/api/households/measurements',
        {
          method: 'POST',
          body: {
            unit,
            ...(taskId ? { taskId } : {}),
            ts: new Date(fromSiteLocal(when.value)).toISOString(),
            rooms: roomReadings(rooms),
            measuredBy: [staff1.value, staff2.value],
          },
        },
      );
      await done();
      say(
        msg,
        true,
        t('cases.recorded', { t: tr().tempC(r.measurement.tempC), state: caseState(r.case?.state ?? '') }),
      );
    } catch (err) {
      say(msg, false, errText(err));
    }
  });
  return form;
}

/** The call-back to the household after the repair: result and satisfaction. */
function callbackForm(workOrderId: string, done: () => Promise<void>): HTMLElement {
  const result = h('input', {
    name: 'result',
    required: true,
    placeholder: t('cases.result'),
    'aria-label': t('cases.result'),
  });
  const satisfied = h('input', { type: 'checkbox', name: 'satisfied', checked: true });
  const msg = h('span', { class: 'msg', role: 'status' });
  const form = h(
    'form',
    { class: 'callback' },
    result,
    h('label', {}, satisfied, ' ', t('cases.satisfied')),
    h('button', { type: 'submit' }, t('cases.recordCallback')),
    msg,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await api(`/api/households/work-orders/${encodeURIComponent(workOrderId)}/callback`, {
        method: 'POST',
        body: { result: result.value, satisfied: satisfied.checked },
      });
      await done();
    } catch (err) {
      say(msg, false, errText(err));
    }
  });
  return form;
}
