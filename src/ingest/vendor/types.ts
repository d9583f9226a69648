/**
 * What a vendor payload decoder reads out of an uplink's raw bytes (LoRaWAN FRMPayload). Pure
 * functions of the bytes: no time, no registry; a payload they cannot read is refused with a reason
 * that names the byte, never a throw (docs/ingest.md "Vendor payloads").
 */
export interface VendorValues {
  tempC: number;
  humidityPct?: number;
  /** Supply voltage the device reports (Elsys VDD). */
  batteryV?: number;
  /** Remaining battery the device reports (Milesight), 0..100; not a voltage, kept apart. */
  batteryPct?: number;
}

export type VendorResult = { ok: true; value: VendorValues } | { ok: false; detail: string };

export type VendorDecoder = (bytes: Uint8Array) => VendorResult;

export const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
