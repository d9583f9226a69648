import { ApiError, api, fmtDuration, fmtTime, h, LiveStream, session } from '../core.ts';
import type { PageHandle, Ticket } from '../types.ts';

const ACTION_LABEL: Record<string, string> = {
  approve: 'Approve',
  apply: 'Apply',
  reject: 'Reject',
  close: 'Close',
};

/**
 * The ticket queue: evidence, proposal, predicted effect, the 48 h re-check countdown, the event
 * history, and for operators the actions the ticket's status allows. A viewer sees no buttons.
 */
export function ticketsPage(root: HTMLElement, params: URLSearchParams): PageHandle {
  const show = h(
    'select',
    { 'aria-label': 'which tickets', id: 'ticket-filter' },
    h('option', { value: 'open' }, 'open'),
    h('option', { value: 'all' }, 'all'),
  );
  const list = h('div', { class: 'tickets', id: 'ticket-list' });
  const msg = h('p', { class: 'msg', role: 'status' });
  const target = params.get('target');
  root.replaceChildren(
    h(
      'div',
      { class: 'bar' },
      h('h2', {}, 'Adjustment tickets'),
      show,
      target ? h('span', {}, `for ${target}`) : null,
    ),
    msg,
    list,
  );
  let serverNow = Date.now();
  let fetchedAt = performance.now();

  function card(t: Ticket): HTMLElement {
    const canAct = session.can('operator');
    const due = t.recheckDueTs;
    return h(
      'article',
      { class: `ticket ts-${t.status}`, 'data-ticket': t.id },
      h(
        'header',
        {},
        h('span', { class: 'tid' }, t.id),
        h('span', { class: 'status', 'data-status': t.status }, t.status),
        h('span', { class: 'problem' }, t.problem.replaceAll('_', ' ')),
        h(
          'a',
          {
            href: t.buildingId
              ? `#/building/${encodeURIComponent(t.buildingId)}`
              : `#/substation/${encodeURIComponent(t.targetId)}`,
          },
          `${t.targetKind} ${t.targetId}`,
        ),
        due !== undefined ? h('span', { class: 'recheck', 'data-due': due }, 're-check in …') : null,
      ),
      h('p', { class: 'summary' }, t.summary),
      h(
        'div',
        { class: 'cols' },
        h(
          'table',
          { class: 'evidence' },
          h('caption', {}, 'Evidence'),
          ...t.evidence.map((e) => h('tr', {}, h('th', {}, e.label), h('td', {}, e.value))),
        ),
        h(
          'div',
          { class: 'proposal' },
          h('h4', {}, 'Proposal'),
          h('p', {}, t.proposal.description),
          h('h4', {}, 'Predicted effect'),
          h('p', {}, t.predictedEffect),
        ),
      ),
      canAct && t.actions.length > 0
        ? h(
            'div',
            { class: 'actions' },
            ...t.actions.map((a) =>
              h(
                'button',
                { type: 'button', class: `act act-${a}`, 'data-action': a, onclick: () => void act(t.id, a) },
                ACTION_LABEL[a] ?? a,
              ),
            ),
          )
        : null,
      h(
        'details',
        {},
        h('summary', {}, `History (${t.events.length})`),
        h(
          'ol',
          { class: 'events' },
          ...t.events.map((e) =>
            h(
              'li',
              {},
              h('time', {}, fmtTime(e.ts)),
              ` ${e.kind}`,
              e.fromStatus || e.toStatus ? ` ${e.fromStatus ?? ''} → ${e.toStatus ?? ''}` : '',
              ` by ${e.actor}`,
              e.note ? ` — ${e.note}` : '',
            ),
          ),
        ),
      ),
    );
  }

  async function act(id: string, action: string): Promise<void> {
    let note: string | undefined;
    if (action === 'reject') note = window.prompt('Reason for rejecting (kept in the history):') ?? undefined;
    try {
      await api(`/api/tickets/${encodeURIComponent(id)}/${action}`, {
        method: 'POST',
        body: note ? { note } : {},
      });
      msg.textContent = `Ticket ${id}: ${action} done.`;
      msg.className = 'msg ok';
    } catch (e) {
      msg.textContent = `Ticket ${id}: ${e instanceof ApiError ? e.message : String(e)}`;
      msg.className = 'msg error';
    }
    await load();
  }

  function tick(): void {
    const now = serverNow + (performance.now() - fetchedAt);
    for (const el of list.querySelectorAll<HTMLElement>('.recheck')) {
      el.textContent = `re-check in ${fmtDuration(Number(el.dataset.due) - now)}`;
    }
  }

  async function load(): Promise<void> {
    const res = await api<{ tickets: Ticket[]; now: number }>('/api/tickets');
    serverNow = res.now;
    fetchedAt = performance.now();
    const closed = new Set(['closed', 'rejected', 'resolved', 'expired', 'superseded', 'escalated']);
    const shown = res.tickets.filter(
      (t) =>
        (show.value === 'all' || !closed.has(t.status)) &&
        (!target || t.targetId === target || t.buildingId === target),
    );
    list.replaceChildren(...(shown.length ? shown.map(card) : [h('p', { class: 'muted' }, 'No tickets.')]));
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
