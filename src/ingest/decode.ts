import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import {
  type Accepted,
  type DecodeResult,
  type RejectReason,
  type RoomReading,
  roomReadingOf,
  type SubstationReading,
} from '../core/readings.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { Topics } from '../mqtt/topics.ts';
import { jsonDepth } from './json-depth.ts';

/**
 * bytes → reading | rejection, for every contract topic (docs/architecture.md "The contract"). Pure: the time
 * comes in as `nowMs`, the registry and limits in `ctx`; nothing here throws on input
 * (CONTRIBUTING.md convention 3), every refusal names a stable RejectReason.
 *
 * Store-and-forward arrays: the good items are accepted and each bad item is refused on its own with
 * its reason (`rejected`), so one bad reading in a sensor's backlog never costs the other readings.
 * A message whose every item is bad is refused as a whole with the first item's reason.
 */

export interface DecodeLimits {
  maxPayloadBytes: number;
  maxJsonDepth: number;
  maxReadingsPerMessage: number;
  futureToleranceMs: number;
  maxReadingAgeMs: number;
}

export interface DecodeContext {
  registry: RegistryIndex;
  topics: Topics;
  nowMs: number;
  limits: DecodeLimits;
}

/** One refused item of an otherwise accepted array. */
export interface ItemReject {
  index: number;
  reason: RejectReason;
  detail: string;
  item: unknown;
}

export type DecodeOutput =
  | { ok: true; value: Accepted; rejected: ItemReject[] }
  | { ok: false; reason: RejectReason; detail: string };

// Contract ranges. Room temperature: −40..60 °C (docs/architecture.md "The contract"); the rest are
// physical plausibility bounds of the meters and sensors heatwatch reads, beyond which a value is a
// fault, not a reading.
export const ROOM_TEMP_MIN_C = -40;
export const ROOM_TEMP_MAX_C = 60;
const WATER_TEMP_MIN_C = 0;
const WATER_TEMP_MAX_C = 150;
const OUTDOOR_TEMP_MIN_C = -70;
const OUTDOOR_TEMP_MAX_C = 60;
// A setpoint command id echoed by a controller: heatwatch's own ids are far shorter (docs/rules.md),
// so anything longer is not one of them; contract bounds like the ranges above, not a tunable.
const SETPOINT_ID_MAX_CHARS = 100;
const SUPPLY_OFFSET_MAX_C = 30;

const roomSchema = z.object({
  temp: z.number().min(ROOM_TEMP_MIN_C).max(ROOM_TEMP_MAX_C),
  ts: z.union([z.number(), z.string()]),
  humidity: z.number().min(0).max(100).optional(),
  battery: z.number().min(0).max(10).optional(),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

const substationSchema = z.object({
  ts: z.union([z.number(), z.string()]),
  supplyTemp: z.number().min(WATER_TEMP_MIN_C).max(WATER_TEMP_MAX_C),
  returnTemp: z.number().min(WATER_TEMP_MIN_C).max(WATER_TEMP_MAX_C),
  flow: z.number().min(0).max(100_000).optional(),
  heat: z.number().min(0).max(1_000_000).optional(),
  valve: z.number().min(0).max(100).optional(),
  outdoorTemp: z.number().min(OUTDOOR_TEMP_MIN_C).max(OUTDOOR_TEMP_MAX_C).optional(),
  supplyOffset: z.number().min(-SUPPLY_OFFSET_MAX_C).max(SUPPLY_OFFSET_MAX_C).optional(),
  /** The id of the setpoint command the controller last applied (confirmation, docs/rules.md). */
  setpointId: z.string().min(1).max(SETPOINT_ID_MAX_CHARS).optional(),
});

const statusSchema = z.object({
  online: z.boolean(),
  fw: z.string().max(64).optional(),
});

const outdoorPoint = z.object({
  ts: z.union([z.number(), z.string()]),
  outdoorTemp: z.number().min(OUTDOOR_TEMP_MIN_C).max(OUTDOOR_TEMP_MAX_C),
});

const forecastSchema = z.object({
  issued: z.union([z.number(), z.string()]),
  points: z.array(z.unknown()),
});

export type Refusal = { ok: false; reason: RejectReason; detail: string };
export const refuse = (reason: RejectReason, detail: string): Refusal => ({ ok: false, reason, detail });

/** A time field the schema refused: missing, or neither epoch ms nor ISO 8601. */
const tsRefusal = (field: string, value: unknown): Refusal =>
  value === undefined
    ? refuse('ts_missing', `${field} is missing`)
    : refuse('ts_unparsable', `${field} is neither epoch ms nor ISO 8601`);

export function decode(topic: string, payload: Buffer, ctx: DecodeContext): DecodeOutput {
  // Size first: nothing else may look at a payload past the limit.
  if (payload.length > ctx.limits.maxPayloadBytes)
    return refuse('too_large', `${payload.length} bytes > ${ctx.limits.maxPayloadBytes}`);
  const parsedTopic = ctx.topics.parse(topic);
  if (!parsedTopic || parsedTopic.kind === 'substationSetpoint')
    return refuse('bad_topic', 'not a topic heatwatch ingests');
  const { kind, id } = parsedTopic;
  if ((kind === 'sensorTelemetry' || kind === 'sensorStatus') && !ctx.registry.sensors.has(id))
    return refuse('unknown_sensor', `sensor ${id} is not in the registry`);
  if (kind === 'substationTelemetry' && !ctx.registry.substations.has(id))
    return refuse('unknown_substation', `substation ${id} is not in the registry`);

  const body = parseJson(payload, ctx.limits.maxJsonDepth);
  if (!body.ok) return body;
  const json = body.value;

  switch (kind) {
    case 'sensorTelemetry':
      return decodeMany(
        json,
        ctx,
        (item) => roomItem(item, id, ctx),
        (readings) => ({ kind: 'room', readings }),
      );
    case 'substationTelemetry':
      return decodeMany(
        json,
        ctx,
        (item) => substationItem(item, id, ctx),
        (readings) => ({ kind: 'substation', readings }),
      );
    case 'sensorStatus': {
      const r = statusSchema.safeParse(json);
      if (!r.success) return refuse('bad_shape', describe(r.error));
      return {
        ok: true,
        value: {
          kind: 'status',
          status: { sensorId: id, online: r.data.online, fw: r.data.fw, ts: ctx.nowMs },
        },
        rejected: [],
      };
    }
    case 'weatherObservation': {
      const r = observationItem(json, ctx);
      if (!r.ok) return r;
      return {
        ok: true,
        value: { kind: 'observation', observation: { stationId: id, ...r.value } },
        rejected: [],
      };
    }
    case 'weatherForecast':
      return forecast(json, id, ctx);
  }
}

/** Narrows to the DecodeResult of core/readings.ts (for callers that do not need item rejects). */
export const toDecodeResult = (o: DecodeOutput): DecodeResult =>
  o.ok ? { ok: true, value: o.value } : { ok: false, reason: o.reason, detail: o.detail };

export type ItemResult<T> = { ok: true; value: T } | Refusal;

function decodeMany<T>(
  json: unknown,
  ctx: DecodeContext,
  one: (item: unknown) => ItemResult<T>,
  wrap: (values: T[]) => Accepted,
): DecodeOutput {
  if (!Array.isArray(json)) {
    const r = one(json);
    return r.ok ? { ok: true, value: wrap([r.value]), rejected: [] } : r;
  }
  if (json.length === 0) return refuse('bad_shape', 'empty array');
  if (json.length > ctx.limits.maxReadingsPerMessage)
    return refuse('too_many_readings', `${json.length} readings > ${ctx.limits.maxReadingsPerMessage}`);
  const values: T[] = [];
  const rejected: ItemReject[] = [];
  json.forEach((item, index) => {
    const r = one(item);
    if (r.ok) values.push(r.value);
    else rejected.push({ index, reason: r.reason, detail: `item ${index}: ${r.detail}`, item });
  });
  const first = rejected[0];
  if (values.length === 0 && first)
    return refuse(first.reason, `all ${json.length} items refused; first: ${first.detail}`);
  return { ok: true, value: wrap(values), rejected };
}

/** One room reading in the native shape `{ts, temp, humidity?, battery?, seq?}`: the adapters' too. */
export function roomItem(item: unknown, sensorId: string, ctx: DecodeContext): ItemResult<RoomReading> {
  if (!isPlainObject(item)) return refuse('bad_shape', 'a reading must be a JSON object');
  const r = roomSchema.safeParse(item);
  if (!r.success) {
    const fields = issueFields(r.error);
    if (fields.has('temp')) return tempRefusal(item.temp);
    if (fields.has('ts')) return tsRefusal('ts', item.ts);
    return fieldRefusal(r.error);
  }
  const ts = checkTs(r.data.ts, ctx);
  if (!ts.ok) return ts;
  const info = ctx.registry.sensors.get(sensorId);
  if (!info) return refuse('unknown_sensor', `sensor ${sensorId} is not in the registry`);
  const reading = roomReadingOf(info, ts.value, r.data.temp, 'sensor');
  if (r.data.humidity !== undefined) reading.humidityPct = r.data.humidity;
  if (r.data.battery !== undefined) reading.batteryV = r.data.battery;
  if (r.data.seq !== undefined) reading.seq = r.data.seq;
  return { ok: true, value: reading };
}

/** Why a room temperature the schema refused is wrong: missing, not a number, or out of range. */
function tempRefusal(temp: unknown): Refusal {
  if (temp === undefined || temp === null) return refuse('temp_missing', 'temp is missing');
  if (typeof temp !== 'number' || !Number.isFinite(temp))
    return refuse('temp_not_number', `temp is ${JSON.stringify(temp) ?? typeof temp}`);
  return refuse('temp_out_of_range', `temp ${temp} °C outside ${ROOM_TEMP_MIN_C}..${ROOM_TEMP_MAX_C}`);
}

/**
 * The checks a manual in-home measurement passes (docs/domain.md: it counts like a sensor's reading):
 * the same temperature and time checks as a sensor reading in `roomItem`; the HTTP API has shaped it
 * already, and names a building and a flat instead of a sensor. Returns the refusal, if any.
 */
export function manualRefusal(reading: RoomReading, ctx: TimeContext): Refusal | undefined {
  if (!roomSchema.shape.temp.safeParse(reading.tempC).success) return tempRefusal(reading.tempC);
  const ts = checkTs(reading.ts, ctx);
  return ts.ok ? undefined : ts;
}

function substationItem(
  item: unknown,
  substationId: string,
  ctx: DecodeContext,
): ItemResult<SubstationReading> {
  const r = checkedItem(item, substationSchema, 'a reading', ctx);
  if (!r.ok) return r;
  const d = r.data;
  const reading: SubstationReading = {
    substationId,
    ts: r.ts,
    supplyTempC: d.supplyTemp,
    returnTempC: d.returnTemp,
  };
  if (d.flow !== undefined) reading.flowM3h = d.flow;
  if (d.heat !== undefined) reading.heatKw = d.heat;
  if (d.valve !== undefined) reading.valvePct = d.valve;
  if (d.outdoorTemp !== undefined) reading.outdoorTempC = d.outdoorTemp;
  if (d.supplyOffset !== undefined) reading.supplyOffsetC = d.supplyOffset;
  if (d.setpointId !== undefined) reading.setpointId = d.setpointId;
  return { ok: true, value: reading };
}

function observationItem(
  json: unknown,
  ctx: DecodeContext,
): ItemResult<{ ts: number; outdoorTempC: number }> {
  const r = checkedItem(json, outdoorPoint, 'an observation', ctx);
  if (!r.ok) return r;
  return { ok: true, value: { ts: r.ts, outdoorTempC: r.data.outdoorTemp } };
}

/**
 * The checks a substation reading and an outdoor observation share: a JSON object, valid by its
 * schema (a bad `ts` refused for its own reason), a timestamp in the accepted window.
 */
function checkedItem<T extends { ts: number | string }>(
  item: unknown,
  schema: z.ZodType<T>,
  what: string,
  ctx: DecodeContext,
): { ok: true; data: T; ts: number } | Refusal {
  if (!isPlainObject(item)) return refuse('bad_shape', `${what} must be a JSON object`);
  const r = schema.safeParse(item);
  if (!r.success) {
    const fields = issueFields(r.error);
    if (fields.has('ts')) return tsRefusal('ts', item.ts);
    return fieldRefusal(r.error);
  }
  const ts = checkTs(r.data.ts, ctx);
  if (!ts.ok) return ts;
  return { ok: true, data: r.data, ts: ts.value };
}

function forecast(json: unknown, stationId: string, ctx: DecodeContext): DecodeOutput {
  if (!isPlainObject(json)) return refuse('bad_shape', 'a forecast must be a JSON object');
  const r = forecastSchema.safeParse(json);
  if (!r.success) {
    if (issueFields(r.error).has('issued')) return tsRefusal('issued', json.issued);
    return fieldRefusal(r.error);
  }
  const issued = checkTs(r.data.issued, ctx);
  if (!issued.ok) return issued;
  if (r.data.points.length > ctx.limits.maxReadingsPerMessage)
    return refuse(
      'too_many_readings',
      `${r.data.points.length} points > ${ctx.limits.maxReadingsPerMessage}`,
    );
  const points: Array<{ ts: number; outdoorTempC: number }> = [];
  for (const [i, p] of r.data.points.entries()) {
    // Forecast points lie in the future by nature: only their shape and range are checked.
    const pr = isPlainObject(p) ? outdoorPoint.safeParse(p) : undefined;
    if (!pr?.success) return refuse('bad_shape', `points[${i}] is not {ts, outdoorTemp}`);
    const ts = parseTs(pr.data.ts);
    if (ts === undefined) return refuse('ts_unparsable', `points[${i}].ts is not a time`);
    points.push({ ts, outdoorTempC: pr.data.outdoorTemp });
  }
  return {
    ok: true,
    value: { kind: 'forecast', forecast: { stationId, issued: issued.value, points } },
    rejected: [],
  };
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Epoch ms (a finite positive number) or an ISO 8601 instant with its offset; else undefined. */
export function parseTs(raw: number | string): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw > 0 ? Math.round(raw) : undefined;
  if (!ISO_8601.test(raw)) return undefined;
  const ms = Date.parse(raw);
  return Number.isFinite(ms) ? ms : undefined;
}

/** What a reading's time is judged against: heatwatch's clock and the window the limits allow. */
type TimeContext = Pick<DecodeContext, 'nowMs' | 'limits'>;

function checkTs(raw: number | string, ctx: TimeContext): ItemResult<number> {
  const ts = parseTs(raw);
  if (ts === undefined)
    return refuse('ts_unparsable', `ts ${JSON.stringify(raw).slice(0, 40)} is not a time`);
  if (ts > ctx.nowMs + ctx.limits.futureToleranceMs)
    return refuse(
      'ts_in_future',
      `ts is ${Math.round((ts - ctx.nowMs) / 1000)} s ahead of heatwatch's clock`,
    );
  if (ts < ctx.nowMs - ctx.limits.maxReadingAgeMs)
    return refuse('ts_too_old', `ts is ${Math.round((ctx.nowMs - ts) / 3_600_000)} h old`);
  return { ok: true, value: ts };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function issueFields(err: z.ZodError): Set<string> {
  const out = new Set<string>();
  for (const i of err.issues) if (i.path.length > 0) out.add(String(i.path[0]));
  return out;
}

function fieldRefusal(err: z.ZodError): Refusal {
  const range = err.issues.find((i) => i.code === 'too_small' || i.code === 'too_big');
  if (range) return refuse('value_out_of_range', describe(err));
  return refuse('bad_shape', describe(err));
}

function describe(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * UTF-8 check, then a nesting-depth scan before JSON.parse ever sees the text: a payload of
 * thousands of `[` would otherwise cost a deep recursion and build structures nobody reads.
 */
export function parseJson(payload: Buffer, maxDepth: number): ItemResult<unknown> {
  if (!isUtf8(payload)) return refuse('not_utf8', 'payload is not valid UTF-8');
  const text = payload.toString('utf8');
  const depth = jsonDepth(text, maxDepth);
  if (depth > maxDepth) return refuse('too_deep', `JSON nesting deeper than ${maxDepth}`);
  try {
    // `__proto__` keys become plain own properties with JSON.parse and are dropped by the zod
    // schemas (unknown keys are stripped), so they can never reach an object's prototype.
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return refuse('not_json', err instanceof Error ? err.message.slice(0, 120) : 'not JSON');
  }
}
