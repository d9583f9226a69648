import type { MessageKey } from '../../i18n/index.ts';
import { ApiError, api, fmtDuration, fmtTime, h, LiveStream, session } from '../core.ts';
import { t, tr } from '../i18n.ts';
import type { PageHandle, Ticket } from '../types.ts';

const sign = (v: number, digits = 1) => `${v >= 0 ? '+' : '−'}${tr().num(Math.abs(v), digits)}`;

/**
 * What heatwatch sent beside what the substation reports in force, and whether it confirmed the
 * command (docs/rules.md "Confirmation"); a command not confirmed is marked for the operator.
 */
function setpointLine(s: NonNullable<Ticket['setpoint']>): HTMLElement {
  const reported = s.reported?.supplyOffsetC;
  const state =
    s.delivery === 'pending'
      ? tr().t('setpoint.pending', { attempts: s.attempts })
      : tr().t(`setpoint.${s.confirmation}`, { min: Math.round((s.confirmedAfterS ?? 0) / 60) });
  return h(
    'p',
    { class: `setpoint sp-${s.delivery === 'pending' ? 'pending' : s.confirmation}`, title: s.text },
    `${tr().t('tickets.setpointLine', {
      sent: sign(s.sent.supplyOffsetC),
      reported: reported === undefined ? '?' : sign(reported),
    })} · ${state}`,
  );
}

/** The proposal in the reader's language, from its machine form (kind + params). */
function proposalText(p: Ticket['proposal']): string {
  const n = (k: string) => Number(p.params[k]);
  switch (p.kind) {
    case 'supply-offset':
      return t('proposal.supplyOffset', { delta: sign(n('deltaC')) });
    case 'slope':
      return t('proposal.slope', { delta: sign(n('delta'), 2) });
    case 'preheat':
      return t('proposal.preheat', { delta: sign(n('offsetC')), until: fmtTime(n('untilTs')) });
    case 'field':
      return t('proposal.field', { task: String(p.params.task) });
    case 'valves': {
      const list = Object.entries(p.params)
        .filter(([k]) => !k.startsWith('was:'))
        .map(([b, v]) => {
          const was = p.params[`was:${b}`];
          const pct = tr().num(Number(v), 0);
          return was === undefined
            ? t('proposal.valve', { building: b, pct })
            : t('proposal.valveWas', { building: b, pct, was: tr().num(Number(was), 0) });
        });
      return t('proposal.valves', { list: list.join(', ') });
    }
  }
}

/** An evidence value with its unit, formatted for the reader; anything else as the API wrote it. */
function evidenceValue(e: Ticket['evidence'][number]): string {
  if (e.num === undefined) return e.value;
  switch (e.unit) {
    case 'C':
      return tr().tempC(e.num);
    case 'pct':
      return t('unit.percent', { v: tr().num(e.num, 0) });
    case 'h':
      return t('unit.hours', { v: tr().num(e.num, 1) });
    case 'share':
      return tr().pct(e.num);
    default:
      return tr().num(e.num, Number.isInteger(e.num) ? 0 : 2);
  }
}

const statusLabel = (s: string) => tr().tOr(`status.${s}`, s);

/** The ticket's id, status, problem, target (linked) and, while it runs, the re-check countdown. */
function cardHeader(t: Ticket): HTMLElement {
  const due = t.recheckDueTs;
  return h(
    'header',
    {},
    h('span', { class: 'tid' }, t.id),
    h('span', { class: 'status', 'data-status': t.status }, statusLabel(t.status)),
    h('span', { class: 'problem' }, tr().tOr(`problem.${t.problem}`, t.problem.replaceAll('_', ' '))),
    h(
      'a',
      {
        href: t.buildingId
          ? `#/building/${encodeURIComponent(t.buildingId)}`
          : `#/substation/${encodeURIComponent(t.targetId)}`,
      },
      tr().t(`target.${t.targetKind}`, { id: t.targetId }),
    ),
    due !== undefined ? h('span', { class: 'recheck', 'data-due': due }) : null,
  );
}

/** Evidence beside the proposal, the setpoint sent and the predicted effect. */
function cardBody(t: Ticket): HTMLElement {
  return h(
    'div',
    { class: 'cols' },
    h(
      'table',
      { class: 'evidence' },
      h('caption', {}, tr().t('tickets.evidence')),
      ...t.evidence.map((e) =>
        h('tr', {}, h('th', {}, tr().tOr(`evidence.${e.key}`, e.label)), h('td', {}, evidenceValue(e))),
      ),
    ),
    h(
      'div',
      { class: 'proposal' },
      h('h4', {}, tr().t('tickets.proposal')),
      h('p', {}, proposalText(t.proposal)),
      t.setpoint ? h('h4', {}, tr().t('tickets.setpoint')) : null,
      t.setpoint ? setpointLine(t.setpoint) : null,
      h('h4', {}, tr().t('tickets.predicted')),
      h(
        'p',
        { title: t.predictedEffect },
        t.prediction
          ? tr().t('tickets.prediction', {
              delta: sign(t.prediction.deltaC),
              hours: tr().num(t.prediction.afterH, 0),
            })
          : t.predictedEffect,
      ),
    ),
  );
}

/** A button per action the ticket's status allows. */
function cardActions(t: Ticket, act: (id: string, action: string) => Promise<void>): HTMLElement {
  return h(
    'div',
    { class: 'actions' },
    ...t.actions.map((a) =>
      h(
        'button',
        { type: 'button', class: `act act-${a}`, 'data-action': a, onclick: () => void act(t.id, a) },
        tr().t(`action.${a}`),
      ),
    ),
  );
}

/** The ticket's events, folded: when, what, the status change, who, and the note. */
function cardHistory(t: Ticket): HTMLElement {
  return h(
    'details',
    {},
    h('summary', {}, tr().t('tickets.history', { n: t.events.length })),
    h(
      'ol',
      { class: 'events' },
      ...t.events.map((e) =>
        h(
          'li',
          {},
          h('time', {}, fmtTime(e.ts)),
          ` ${tr().tOr(`status.${e.kind}`, e.kind)}`,
          e.fromStatus || e.toStatus
            ? ` ${statusLabel(e.fromStatus ?? '')} → ${statusLabel(e.toStatus ?? '')}`
            : '',
          ` ${tr().t('tickets.by', { actor: e.actor })}`,
          e.note ? ` — ${e.note}` : '',
        ),
      ),
    ),
  );
}

/** One ticket; operators see the actions its status allows, a viewer none. */
function card(t: Ticket, act: (id: string, action: string) => Promise<void>): HTMLElement {
  const canAct = session.can('operator');
  return h(
    'article',
    { class: `ticket ts-${t.status}`, 'data-ticket': t.id },
    cardHeader(t),
    h(
      'p',
      { class: 'summary', title: t.summary },
      tr().tOr(`summary.${t.problem}`, t.summary, { target: t.targetId }),
    ),
    cardBody(t),
    canAct && t.actions.length > 0 ? cardActions(t, act) : null,
    cardHistory(t),
  );
}

/** Posts an action on a ticket (a rejection asks for its reason) and says how it went in `msg`. */
async function postAction(msg: HTMLElement, id: string, action: string): Promise<void> {
  let note: string | undefined;
  if (action === 'reject') note = window.prompt(t('tickets.rejectReason')) ?? undefined;
  try {
    await api(`/api/tickets/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      body: note ? { note } : {},
    });
    msg.textContent = t('tickets.done', { id, action: t(`action.${action}` as MessageKey) });
    msg.className = 'msg ok';
  } catch (e) {
    msg.textContent = t('tickets.failed', { id, message: e instanceof ApiError ? e.message : String(e) });
    msg.className = 'msg error';
  }
}

const CLOSED = new Set(['closed', 'rejected', 'resolved', 'expired', 'superseded', 'escalated']);

/**
 * The ticket queue: evidence, proposal, predicted effect, the 48 h re-check countdown, the event
 * history, and for operators the actions the ticket's status allows. A viewer sees no buttons.
 */
export function ticketsPage(root: HTMLElement, params: URLSearchParams): PageHandle {
  const show = h(
    'select',
    { 'aria-label': t('tickets.which'), id: 'ticket-filter' },
    h('option', { value: 'open' }, t('tickets.open')),
    h('option', { value: 'all' }, t('tickets.all')),
  );
  const list = h('div', { class: 'tickets', id: 'ticket-list' });
  const msg = h('p', { class: 'msg', role: 'status' });
  const target = params.get('target');
  root.replaceChildren(
    h(
      'div',
      { class: 'bar' },
      h('h2', {}, t('tickets.title')),
      show,
      target ? h('span', {}, t('tickets.for', { target })) : null,
    ),
    msg,
    list,
  );
  let serverNow = Date.now();
  let fetchedAt = performance.now();
  const act = async (id: string, action: string): Promise<void> => {
    await postAction(msg, id, action);
    await load();
  };

  function tick(): void {
    const now = serverNow + (performance.now() - fetchedAt);
    for (const el of list.querySelectorAll<HTMLElement>('.recheck')) {
      el.textContent = t('tickets.recheck', { when: fmtDuration(Number(el.dataset.due) - now) });
    }
  }

  async function load(): Promise<void> {
    const res = await api<{ tickets: Ticket[]; now: number }>('/api/tickets');
    serverNow = res.now;
    fetchedAt = performance.now();
    const shown = res.tickets.filter(
      (t) =>
        (show.value === 'all' || !CLOSED.has(t.status)) &&
        (!target || t.targetId === target || t.buildingId === target),
    );
    list.replaceChildren(
      ...(shown.length ? shown.map((x) => card(x, act)) : [h('p', { class: 'muted' }, t('tickets.none'))]),
    );
    tick();
  }
  show.addEventListener('change', () => void load());
  void load().catch((e) => list.replaceChildren(h('p', { class: 'error' }, (e as Error).message)));
  const timer = window.setInterval(tick, 1000);
  const refresh = window.setInterval(() => void load().catch(() => undefined), 30_000);
  const live = new LiveStream('none')
    .on('ticket', () => void load().catch(() => undefined))
    .on('reset', () => void load().catch(() => undefined));
  live.open();
  return {
    dispose() {
      clearInterval(timer);
      clearInterval(refresh);
      live.close();
    },
  };
}
