import { hex, type VendorResult } from './types.ts';

/**
 * Milesight temperature/humidity sensors (EM300-TH, EM320-TH): the payload is a run of
 * channel id, channel type, value; multi-byte values are little-endian (Milesight's published
 * payload definition). Battery 0x01 0x75 (uint8 %), temperature 0x03 0x67 (int16 / 10 °C), humidity
 * 0x04 0x68 (uint8 / 2 %RH). The device-information records on channel 0xff (sent after power-on) are
 * stepped over by their documented lengths. Anything else cannot be stepped over safely (history
 * records differ in length between models), so the payload is refused with the pair named.
 */

/** Value length per `channel,type` pair. */
const LENGTH: ReadonlyMap<number, number> = new Map([
  [0x0175, 1], // battery, %
  [0x0367, 2], // temperature
  [0x0468, 1], // humidity
  [0xff01, 1], // protocol version
  [0xff09, 2], // hardware version
  [0xff0a, 2], // firmware version
  [0xff0b, 1], // power on
  [0xff0f, 1], // device class
  [0xff16, 8], // serial number
]);

export function decodeMilesight(bytes: Uint8Array): VendorResult {
  if (bytes.length === 0) return { ok: false, detail: 'milesight: empty payload' };
  let tempC: number | undefined;
  let humidityPct: number | undefined;
  let batteryPct: number | undefined;
  let i = 0;
  while (i < bytes.length) {
    if (i + 2 > bytes.length)
      return {
        ok: false,
        detail: `milesight: lone byte ${hex(bytes[i] as number)} at byte ${i} (truncated)`,
      };
    const channel = bytes[i] as number;
    const type = bytes[i + 1] as number;
    const len = LENGTH.get((channel << 8) | type);
    if (len === undefined)
      return {
        ok: false,
        detail: `milesight: unknown channel ${hex(channel)} type ${hex(type)} at byte ${i}`,
      };
    const v = i + 2;
    if (v + len > bytes.length)
      return {
        ok: false,
        detail: `milesight: channel ${hex(channel)} type ${hex(type)} needs ${len} bytes, ${bytes.length - v} left (truncated)`,
      };
    if (channel === 0x03) tempC = int16le(bytes, v) / 10;
    else if (channel === 0x04) humidityPct = (bytes[v] as number) / 2;
    else if (channel === 0x01) batteryPct = bytes[v] as number;
    i = v + len;
  }
  if (tempC === undefined)
    return { ok: false, detail: 'milesight: no temperature (channel 0x03 type 0x67) in payload' };
  return {
    ok: true,
    value: {
      tempC,
      ...(humidityPct !== undefined ? { humidityPct } : {}),
      ...(batteryPct !== undefined ? { batteryPct } : {}),
    },
  };
}

const int16le = (b: Uint8Array, i: number): number => {
  const u = (b[i] as number) | ((b[i + 1] as number) << 8);
  return u > 0x7fff ? u - 0x10000 : u;
};
