import { decodeElsys } from './elsys.ts';
import { decodeMilesight } from './milesight.ts';
import type { VendorDecoder } from './types.ts';

/**
 * The device models a sensor in network.yaml may name (`model:`), each with the decoder of its
 * vendor's payload format. Used only when the network server forwards raw bytes without a decoded
 * object (no codec configured in its device profile / payload formatter).
 */
export const SENSOR_MODELS = [
  'elsys-ers',
  'elsys-ers-lite',
  'elsys-ers-co2',
  'milesight-em300-th',
  'milesight-em320-th',
] as const;

export type SensorModel = (typeof SENSOR_MODELS)[number];

export const VENDOR_DECODERS: Readonly<Record<SensorModel, VendorDecoder>> = {
  'elsys-ers': decodeElsys,
  'elsys-ers-lite': decodeElsys,
  'elsys-ers-co2': decodeElsys,
  'milesight-em300-th': decodeMilesight,
  'milesight-em320-th': decodeMilesight,
};

export const vendorDecoder = (model: string | undefined): VendorDecoder | undefined =>
  model !== undefined && Object.hasOwn(VENDOR_DECODERS, model)
    ? VENDOR_DECODERS[model as SensorModel]
    : undefined;
