import { hex, type VendorResult } from './types.ts';

/**
 * Elsys room sensors (ERS, ERS Lite, ERS CO2 …): the payload is a run of type-value records, one type
 * byte then a value whose length the type fixes; multi-byte values are big-endian (Elsys "payload
 * structure" document). Only the types a room-temperature reading needs are interpreted; the others
 * are stepped over by their documented length. A type outside the table cannot be stepped over (its
 * length is unknown), so the whole payload is refused rather than misread.
 */

/** Value length in bytes per type, from the Elsys payload document. */
const LENGTH: ReadonlyMap<number, number> = new Map([
  [0x01, 2], // temperature, int16 / 10 °C
  [0x02, 1], // relative humidity, %
  [0x03, 3], // acceleration x, y, z
  [0x04, 2], // light, lux
  [0x05, 1], // motion count
  [0x06, 2], // CO2, ppm
  [0x07, 2], // VDD, mV
  [0x08, 2], // analog input 1, mV
  [0x09, 6], // GPS
  [0x0a, 2], // pulse count 1
  [0x0b, 4], // pulse count 1, absolute
  [0x0c, 2], // external temperature 1
  [0x0d, 1], // external digital input
  [0x0e, 2], // external distance, mm
  [0x0f, 1], // acceleration motion count
  [0x10, 4], // IR temperature, internal and external
  [0x11, 1], // occupancy
  [0x12, 1], // water leak
  [0x13, 65], // Grid-EYE
  [0x14, 4], // pressure
  [0x15, 2], // sound peak and average
  [0x16, 2], // pulse count 2
  [0x17, 4], // pulse count 2, absolute
  [0x18, 2], // analog input 2
  [0x19, 2], // external temperature 2
  [0x1a, 1], // external digital input 2
  [0x1b, 4], // external analog, µV
  [0x1c, 2], // TVOC, ppb
  [0x3d, 4], // debug information
]);

const TEMP = 0x01;
const HUMIDITY = 0x02;
const VDD = 0x07;

export function decodeElsys(bytes: Uint8Array): VendorResult {
  if (bytes.length === 0) return { ok: false, detail: 'elsys: empty payload' };
  let tempC: number | undefined;
  let humidityPct: number | undefined;
  let batteryV: number | undefined;
  let i = 0;
  while (i < bytes.length) {
    const type = bytes[i] as number;
    const len = LENGTH.get(type);
    if (len === undefined) return { ok: false, detail: `elsys: unknown type ${hex(type)} at byte ${i}` };
    if (i + 1 + len > bytes.length)
      return {
        ok: false,
        detail: `elsys: type ${hex(type)} at byte ${i} needs ${len} bytes, ${bytes.length - i - 1} left (truncated)`,
      };
    const v = i + 1;
    if (type === TEMP) tempC = int16be(bytes, v) / 10;
    else if (type === HUMIDITY) humidityPct = bytes[v] as number;
    else if (type === VDD) batteryV = uint16be(bytes, v) / 1000;
    i = v + len;
  }
  if (tempC === undefined) return { ok: false, detail: 'elsys: no temperature (type 0x01) in payload' };
  return {
    ok: true,
    value: {
      tempC,
      ...(humidityPct !== undefined ? { humidityPct } : {}),
      ...(batteryV !== undefined ? { batteryV } : {}),
    },
  };
}

const uint16be = (b: Uint8Array, i: number): number => ((b[i] as number) << 8) | (b[i + 1] as number);
const int16be = (b: Uint8Array, i: number): number => {
  const u = uint16be(b, i);
  return u > 0x7fff ? u - 0x10000 : u;
};
