import { api, apiBlob, h } from '../core.ts';
import { t, tr } from '../i18n.ts';
import type { PageHandle } from '../types.ts';
import { errText, table } from './cases.ts';

interface Row {
  rank: number;
  name: string;
  street?: string;
  hoursBelow18: number | null;
  cases: number;
  complaints: number;
  complaintsByClass: Record<string, number>;
  repeatedFieldTasks: number;
  failedAdjustments: number;
  score: number;
}

/** The season review: buildings ranked into the summer repair list, with its CSV. */
export function seasonPage(root: HTMLElement): PageHandle {
  const body = h('div', { id: 'season' });
  const csv = h('button', { type: 'button' }, t('bulletin.csv'));
  csv.addEventListener('click', async () => {
    const url = URL.createObjectURL(await apiBlob('/api/households/season-review/csv'));
    h('a', { href: url, download: 'summer-repair-list.csv' }).click();
  });
  root.replaceChildren(
    h('h2', {}, t('season.title')),
    h('p', { class: 'muted' }, t('season.about')),
    csv,
    body,
  );
  void api<{ fromTs: number; toTs: number; rows: Row[] }>('/api/households/season-review')
    .then(({ rows }) =>
      body.replaceChildren(
        table(
          [
            '#',
            t('cases.building'),
            t('season.street'),
            t('season.hoursBelow'),
            t('nav.cases'),
            t('cases.complaints'),
            t('season.repeatedTasks'),
            t('season.failedAdjustments'),
            t('season.score'),
          ],
          rows.map((r) => [
            r.rank,
            r.name,
            r.street ?? '—',
            r.hoursBelow18 === null ? '—' : tr().num(r.hoursBelow18, 0),
            r.cases,
            `${r.complaints} (${
              Object.entries(r.complaintsByClass)
                .filter(([, n]) => n > 0)
                .map(([c, n]) => `${tr().tOr(`complaintClass.${c}`, c)} ${n}`)
                .join(', ') || '—'
            })`,
            r.repeatedFieldTasks,
            r.failedAdjustments,
            r.score,
          ]),
        ),
      ),
    )
    .catch((err) => body.replaceChildren(h('p', { class: 'error' }, errText(err))));
  return { dispose() {} };
}
