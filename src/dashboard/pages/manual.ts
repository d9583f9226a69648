import { fromZoneLocal, toZoneLocal } from '../../i18n/index.ts';
import { ApiError, api, classLabel, fmtC, h, session } from '../core.ts';
import { t, tr } from '../i18n.ts';
import type { BuildingDetail, BuildingSummary, PageHandle } from '../types.ts';

/** What a datetime-local input holds for an instant, and back, in the site's zone (not the phone's). */
export const toSiteLocal = (ts: number): string => toZoneLocal(ts, tr().timeZone);
export const fromSiteLocal = (value: string): number => fromZoneLocal(value, tr().timeZone);

/**
 * Manual in-home measurement (docs/domain.md): two staff, a calibrated thermometer, room by room. The
 * unit's reading is the mean of its rooms and outweighs the sensor. Operators only.
 */
export function manualPage(root: HTMLElement): PageHandle {
  if (!session.can('operator')) {
    root.replaceChildren(
      h('h2', {}, t('manual.title')),
      h('p', { class: 'muted' }, t('manual.needsOperator')),
    );
    return { dispose() {} };
  }
  const building = h('select', { name: 'building', required: true, 'aria-label': t('manual.building') });
  const unit = h('select', { name: 'unit', required: true, 'aria-label': t('manual.unit') });
  // The measuring team works in the site's time zone, whatever the phone is set to.
  const when = h('input', {
    type: 'datetime-local',
    name: 'ts',
    value: toSiteLocal(session.now()),
    required: true,
  });
  const rooms = h('div', { class: 'rooms' });
  const staff = (name: string, key: 'manual.staff1' | 'manual.staff2') =>
    h('input', { name, placeholder: t(key), 'aria-label': t(key), autocomplete: 'name', required: true });
  const staff1 = staff('staff1', 'manual.staff1');
  const staff2 = staff('staff2', 'manual.staff2');
  const note = h('textarea', {
    name: 'note',
    rows: 2,
    placeholder: t('manual.note'),
    'aria-label': t('manual.note'),
  });
  const msg = h('p', { class: 'msg', role: 'status' });
  const addRoom = (name = '') =>
    rooms.append(
      h(
        'div',
        { class: 'room' },
        h('input', {
          class: 'room-name',
          value: name,
          placeholder: t('manual.room'),
          'aria-label': t('manual.room'),
          required: true,
        }),
        h('input', {
          class: 'room-temp',
          type: 'number',
          // A numeric keyboard with a decimal point on phones.
          inputmode: 'decimal',
          'aria-label': '°C',
          step: '0.1',
          min: '-40',
          max: '60',
          placeholder: '°C',
          required: true,
        }),
      ),
    );
  for (const r of [t('manual.livingRoom'), t('manual.bedroom')]) addRoom(r);
  const form = h(
    'form',
    { class: 'manual', id: 'manual-form' },
    h('label', {}, h('span', {}, t('manual.building')), building),
    h('label', {}, h('span', {}, t('manual.unit')), unit),
    h('label', {}, h('span', {}, t('manual.measuredAt')), when),
    h(
      'fieldset',
      {},
      h('legend', {}, t('manual.rooms')),
      rooms,
      h('button', { type: 'button', onclick: () => addRoom() }, t('manual.addRoom')),
    ),
    h('fieldset', { class: 'signatures' }, h('legend', {}, t('manual.signedBy')), staff1, staff2),
    note,
    h('button', { type: 'submit', class: 'primary' }, t('manual.submit')),
    msg,
  );
  root.replaceChildren(h('h2', {}, t('manual.title')), form);

  async function loadUnits(): Promise<void> {
    const b = await api<BuildingDetail>(`/api/buildings/${encodeURIComponent(building.value)}`);
    unit.replaceChildren(
      ...b.units
        .sort((x, y) => y.floor - x.floor || x.column - y.column)
        .map((u) =>
          h(
            'option',
            { value: `${u.floor}:${u.column}` },
            t('manual.unitOption', {
              floor: u.floor,
              column: u.column,
              classes: u.classes.map(classLabel).join('+'),
              t: fmtC(u.tempC),
            }),
          ),
        ),
    );
  }
  void api<{ buildings: BuildingSummary[] }>('/api/buildings').then(async ({ buildings }) => {
    building.replaceChildren(...buildings.map((b) => h('option', { value: b.id }, `${b.name} (${b.id})`)));
    await loadUnits();
  });
  building.addEventListener('change', () => void loadUnits());

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const [floor, column] = unit.value.split(':').map(Number);
    const body = {
      buildingId: building.value,
      floor,
      column,
      ts: new Date(fromSiteLocal(when.value)).toISOString(),
      rooms: [...rooms.querySelectorAll('.room')].map((r) => ({
        room: (r.querySelector('.room-name') as HTMLInputElement).value,
        tempC: Number((r.querySelector('.room-temp') as HTMLInputElement).value),
      })),
      measuredBy: [staff1.value, staff2.value],
      ...(note.value ? { note: note.value } : {}),
    };
    try {
      const r = await api<{ sensorId: string; tempC: number }>('/api/readings/manual', {
        method: 'POST',
        body,
      });
      msg.className = 'msg ok';
      msg.textContent = t('manual.recorded', { t: tr().tempC(r.tempC), sensor: r.sensorId });
    } catch (err) {
      msg.className = 'msg error';
      msg.textContent = err instanceof ApiError ? err.message : String(err);
    }
  });
  return { dispose() {} };
}
