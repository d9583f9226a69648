import type { SensorInfo } from '../core/registry.ts';
import {
  type DecodeContext,
  type DecodeOutput,
  isPlainObject,
  parseJson,
  type Refusal,
  refuse,
  roomItem,
} from './decode.ts';
import { vendorDecoder } from './vendor/models.ts';

/**
 * LoRaWAN network-server uplinks → the native room reading (docs/ingest.md "LoRaWAN network
 * servers"). The envelope says which device (DevEUI), when (the server's receive time) and its frame
 * counter; the reading itself comes from the object the server's codec decoded or, without one, from
 * the raw bytes by the sensor model's vendor decoder. The result goes through the native `roomItem`,
 * so the same ranges, clocks and reasons apply as to `{ts, temp}` on the contract topic.
 */
export type UplinkFormat = 'chirpstack' | 'tts';

/** What both network servers' uplinks carry, before it is judged. */
interface Envelope {
  devEui: unknown;
  time: unknown;
  fCnt: unknown;
  object: unknown;
  bytes: unknown;
}

const DEV_EUI = /^[0-9A-Fa-f]{16}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** ChirpStack v4 MQTT integration, `application/{id}/device/{devEui}/event/up`. */
function chirpstack(json: Record<string, unknown>): Envelope {
  const info = isPlainObject(json.deviceInfo) ? json.deviceInfo : {};
  return { devEui: info.devEui, time: json.time, fCnt: json.fCnt, object: json.object, bytes: json.data };
}

/** The Things Stack v3, `v3/{app}@{tenant}/devices/{device}/up`. */
function tts(json: Record<string, unknown>): Envelope | Refusal {
  const up = json.uplink_message;
  if (!isPlainObject(up)) return refuse('bad_shape', 'tts: no uplink_message (not an uplink)');
  const ids = isPlainObject(json.end_device_ids) ? json.end_device_ids : {};
  return {
    devEui: ids.dev_eui,
    time: json.received_at ?? up.received_at,
    fCnt: up.f_cnt,
    object: up.decoded_payload,
    bytes: up.frm_payload,
  };
}

export function decodeUplink(format: UplinkFormat, payload: Buffer, ctx: DecodeContext): DecodeOutput {
  if (payload.length > ctx.limits.maxPayloadBytes)
    return refuse('too_large', `${payload.length} bytes > ${ctx.limits.maxPayloadBytes}`);
  const body = parseJson(payload, ctx.limits.maxJsonDepth);
  if (!body.ok) return body;
  if (!isPlainObject(body.value)) return refuse('bad_shape', `${format}: an uplink must be a JSON object`);
  const env = format === 'chirpstack' ? chirpstack(body.value) : tts(body.value);
  if ('ok' in env) return env;
  if (typeof env.devEui !== 'string' || !DEV_EUI.test(env.devEui))
    return refuse('bad_shape', `${format}: the DevEUI is missing or not 16 hex digits`);
  const info = ctx.registry.sensorsByDevEui.get(env.devEui.toLowerCase());
  if (!info) return refuse('unknown_sensor', `devEui ${env.devEui} is not in the registry`);
  if (env.time === undefined) return refuse('ts_missing', `${format}: the receive time is missing`);
  const values = readingValues(format, env, info);
  if (!values.ok) return values;
  // Network servers leave zero-valued fields out of their JSON: an absent counter is frame 0.
  const item = { ...values.value, ts: env.time, seq: env.fCnt ?? 0 };
  const r = roomItem(item, info.sensor.id, ctx);
  if (!r.ok) return r;
  return { ok: true, value: { kind: 'room', readings: [r.value] }, rejected: [] };
}

type Values = { temp: unknown; humidity?: unknown; battery?: unknown };

/** The server's decoded object when it holds a temperature; else the raw bytes by the sensor's model. */
function readingValues(
  format: UplinkFormat,
  env: Envelope,
  info: SensorInfo,
): { ok: true; value: Values } | Refusal {
  if (isPlainObject(env.object)) {
    const o = env.object;
    const temp = o.temperature ?? o.temp;
    if (temp !== undefined) {
      const out: Values = { temp };
      if (o.humidity !== undefined) out.humidity = o.humidity;
      // Elsys codecs report the supply voltage as `vdd` in mV; the contract's battery is in volts.
      if (typeof o.vdd === 'number') out.battery = o.vdd / 1000;
      return { ok: true, value: out };
    }
  }
  if (env.bytes === undefined || env.bytes === '')
    return refuse('bad_payload', `${format}: the uplink has neither a decoded temperature nor bytes`);
  if (typeof env.bytes !== 'string' || !BASE64.test(env.bytes))
    return refuse('bad_shape', `${format}: the payload bytes are not base64`);
  const decoder = vendorDecoder(info.sensor.model);
  if (!decoder)
    return refuse(
      'no_decoder',
      `sensor ${info.sensor.id} sends raw bytes and has no model to decode them (network.yaml \`model\`)`,
    );
  const r = decoder(Buffer.from(env.bytes, 'base64'));
  if (!r.ok) return refuse('bad_payload', r.detail);
  const out: Values = { temp: r.value.tempC };
  if (r.value.humidityPct !== undefined) out.humidity = r.value.humidityPct;
  if (r.value.batteryV !== undefined) out.battery = r.value.batteryV;
  return { ok: true, value: out };
}
