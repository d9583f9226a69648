import { ApiError, api, classLabel, fmtC, h, session } from '../core.ts';
import { t, tr } from '../i18n.ts';
import { fromSiteLocal, measuredAtInput, roomReadings } from '../measurement-form.ts';
import type { BuildingDetail, BuildingSummary, PageHandle } from '../types.ts';

/** A room of the flat: its name and the temperature measured there. */
function roomRow(name: string): HTMLElement {
  return h(
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
  );
}

const staffInput = (name: string, key: 'manual.staff1' | 'manual.staff2') =>
  h('input', { name, placeholder: t(key), 'aria-label': t(key), autocomplete: 'name', required: true });

/** The form's fields, which the page fills (buildings, units) and reads when it is sent. */
function manualFields() {
  return {
    building: h('select', { name: 'building', required: true, 'aria-label': t('manual.building') }),
    unit: h('select', { name: 'unit', required: true, 'aria-label': t('manual.unit') }),
    when: measuredAtInput(),
    rooms: h('div', { class: 'rooms' }, roomRow(t('manual.livingRoom')), roomRow(t('manual.bedroom'))),
    staff1: staffInput('staff1', 'manual.staff1'),
    staff2: staffInput('staff2', 'manual.staff2'),
    note: h('textarea', {
      name: 'note',
      rows: 2,
      placeholder: t('manual.note'),
      'aria-label': t('manual.note'),
    }),
    msg: h('p', { class: 'msg', role: 'status' }),
  };
}
type ManualFields = ReturnType<typeof manualFields>;

function manualForm(f: ManualFields): HTMLFormElement {
  return h(
    'form',
    { class: 'manual', id: 'manual-form' },
    h('label', {}, h('span', {}, t('manual.building')), f.building),
    h('label', {}, h('span', {}, t('manual.unit')), f.unit),
    h('label', {}, h('span', {}, t('manual.measuredAt')), f.when),
    h(
      'fieldset',
      {},
      h('legend', {}, t('manual.rooms')),
      f.rooms,
      h('button', { type: 'button', onclick: () => f.rooms.append(roomRow('')) }, t('manual.addRoom')),
    ),
    h('fieldset', { class: 'signatures' }, h('legend', {}, t('manual.signedBy')), f.staff1, f.staff2),
    f.note,
    h('button', { type: 'submit', class: 'primary' }, t('manual.submit')),
    f.msg,
  );
}

/** The chosen building's units, top floor first, each with its classes and latest temperature. */
async function loadUnits(f: ManualFields): Promise<void> {
  const b = await api<BuildingDetail>(`/api/buildings/${encodeURIComponent(f.building.value)}`);
  f.unit.replaceChildren(
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

async function submitManual(f: ManualFields): Promise<void> {
  const [floor, column] = f.unit.value.split(':').map(Number);
  const body = {
    buildingId: f.building.value,
    floor,
    column,
    ts: new Date(fromSiteLocal(f.when.value)).toISOString(),
    rooms: roomReadings(f.rooms),
    measuredBy: [f.staff1.value, f.staff2.value],
    ...(f.note.value ? { note: f.note.value } : {}),
  };
  try {
    const r = await api<{ sensorId: string; tempC: number }>('/api/readings/manual', {
      method: 'POST',
      body,
    });
    f.msg.className = 'msg ok';
    f.msg.textContent = t('manual.recorded', { t: tr().tempC(r.tempC), sensor: r.sensorId });
  } catch (err) {
    f.msg.className = 'msg error';
    f.msg.textContent = err instanceof ApiError ? err.message : String(err);
  }
}

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
  const f = manualFields();
  const form = manualForm(f);
  root.replaceChildren(h('h2', {}, t('manual.title')), form);
  void api<{ buildings: BuildingSummary[] }>('/api/buildings').then(async ({ buildings }) => {
    f.building.replaceChildren(...buildings.map((b) => h('option', { value: b.id }, `${b.name} (${b.id})`)));
    await loadUnits(f);
  });
  f.building.addEventListener('change', () => void loadUnits(f));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void submitManual(f);
  });
  return { dispose() {} };
}
