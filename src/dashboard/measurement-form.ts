import { fromZoneLocal, toZoneLocal } from '../i18n/index.ts';
import { h, session } from './core.ts';
import { tr } from './i18n.ts';

/**
 * What the manual-measurement page and a case's measurement form share (docs/domain.md: two staff, a
 * calibrated thermometer, room by room).
 */

/** What a datetime-local input holds for an instant, and back, in the site's zone (not the phone's). */
const toSiteLocal = (ts: number): string => toZoneLocal(ts, tr().timeZone);
export const fromSiteLocal = (value: string): number => fromZoneLocal(value, tr().timeZone);

/** When the measurement was taken, in the site's time zone whatever the phone is set to; now by default. */
export function measuredAtInput(): HTMLInputElement {
  return h('input', {
    type: 'datetime-local',
    name: 'ts',
    value: toSiteLocal(session.now()),
    required: true,
  });
}

/** The rooms as the API takes them: each `.room` row's name and temperature in °C. */
export function roomReadings(rooms: HTMLElement): Array<{ room: string; tempC: number }> {
  return [...rooms.querySelectorAll('.room')].map((r) => ({
    room: (r.querySelector('.room-name') as HTMLInputElement).value,
    tempC: Number((r.querySelector('.room-temp') as HTMLInputElement).value),
  }));
}
