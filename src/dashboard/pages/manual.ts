import { ApiError, api, fmtC, h, session } from '../core.ts';
import type { BuildingDetail, BuildingSummary, PageHandle } from '../types.ts';

/**
 * Manual in-home measurement (docs/domain.md): two staff, a calibrated thermometer, room by room. The
 * unit's reading is the mean of its rooms and outweighs the sensor. Operators only.
 */
export function manualPage(root: HTMLElement): PageHandle {
  if (!session.can('operator')) {
    root.replaceChildren(
      h('h2', {}, 'Manual measurement'),
      h(
        'p',
        { class: 'muted' },
        'Recording a measurement needs the operator role; you can view everything else.',
      ),
    );
    return { dispose() {} };
  }
  const building = h('select', { name: 'building', required: true, 'aria-label': 'building' });
  const unit = h('select', { name: 'unit', required: true, 'aria-label': 'unit' });
  const now = new Date(session.now());
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  const when = h('input', { type: 'datetime-local', name: 'ts', value: local, required: true });
  const rooms = h('div', { class: 'rooms' });
  const staff1 = h('input', { name: 'staff1', placeholder: 'first staff member', required: true });
  const staff2 = h('input', { name: 'staff2', placeholder: 'second staff member', required: true });
  const note = h('textarea', {
    name: 'note',
    rows: 2,
    placeholder: 'note (resident present, thermometer id…)',
  });
  const msg = h('p', { class: 'msg', role: 'status' });
  const addRoom = (name = '') =>
    rooms.append(
      h(
        'div',
        { class: 'room' },
        h('input', { class: 'room-name', value: name, placeholder: 'room', required: true }),
        h('input', {
          class: 'room-temp',
          type: 'number',
          step: '0.1',
          min: '-40',
          max: '60',
          placeholder: '°C',
          required: true,
        }),
      ),
    );
  for (const r of ['living room', 'bedroom']) addRoom(r);
  const form = h(
    'form',
    { class: 'manual', id: 'manual-form' },
    h('label', {}, 'Building ', building),
    h('label', {}, 'Unit ', unit),
    h('label', {}, 'Measured at ', when),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Rooms'),
      rooms,
      h('button', { type: 'button', onclick: () => addRoom() }, 'Add room'),
    ),
    h('fieldset', {}, h('legend', {}, 'Measured and signed by'), staff1, staff2),
    note,
    h('button', { type: 'submit' }, 'Record measurement'),
    msg,
  );
  root.replaceChildren(h('h2', {}, 'Manual measurement'), form);

  async function loadUnits(): Promise<void> {
    const b = await api<BuildingDetail>(`/api/buildings/${encodeURIComponent(building.value)}`);
    unit.replaceChildren(
      ...b.units
        .sort((x, y) => y.floor - x.floor || x.column - y.column)
        .map((u) =>
          h(
            'option',
            { value: `${u.floor}:${u.column}` },
            `floor ${u.floor}, unit ${u.column} (${u.classes.join('+')}) — now ${fmtC(u.tempC)}`,
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
      ts: new Date(when.value).toISOString(),
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
      msg.textContent = `Recorded ${fmtC(r.tempC)} for ${r.sensorId}.`;
    } catch (err) {
      msg.className = 'msg error';
      msg.textContent = err instanceof ApiError ? err.message : String(err);
    }
  });
  return { dispose() {} };
}
