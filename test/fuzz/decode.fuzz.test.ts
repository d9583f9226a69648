import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { networkSchema, toRegistry } from '../../src/config/network-schema.ts';
import type { RejectReason } from '../../src/core/readings.ts';
import { RegistryIndex } from '../../src/core/registry.ts';
import { type DecodeContext, decode } from '../../src/ingest/decode.ts';
import { decodeMessage, UplinkSources } from '../../src/ingest/sources.ts';
import { Topics } from '../../src/mqtt/topics.ts';

/**
 * Issue 6: whatever arrives on a topic, decode() answers with a reading or a stated reason; it never
 * throws, never accepts a value outside the contract, and never lets a payload key reach a prototype.
 */
const long = process.env.HEATWATCH_FAULTS === 'long';
const RUNS = long ? 100_000 : 3_000;

const REASONS: ReadonlySet<RejectReason> = new Set<RejectReason>([
  'too_large',
  'not_utf8',
  'not_json',
  'too_deep',
  'bad_topic',
  'bad_shape',
  'temp_missing',
  'temp_not_number',
  'temp_out_of_range',
  'ts_missing',
  'ts_unparsable',
  'ts_in_future',
  'ts_too_old',
  'unknown_sensor',
  'unknown_substation',
  'value_out_of_range',
  'too_many_readings',
  'rate_limited',
  'bad_payload',
  'no_decoder',
]);

const NOW_MS = Date.UTC(2026, 0, 15, 12, 0, 0);
const curve = { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 };
const registry = new RegistryIndex(
  toRegistry(
    networkSchema.parse({
      substations: [{ id: 'ss-a', curve }],
      buildings: [
        {
          id: 'b1',
          substation: 'ss-a',
          floors: 4,
          unitsPerFloor: 3,
          sensors: [
            { floor: 1, column: 1 },
            { floor: 1, column: 2, devEui: 'A84041000181C061', model: 'elsys-ers' },
            { floor: 1, column: 3, devEui: '24E124136B502217', model: 'milesight-em300-th' },
            { floor: 2, column: 1, devEui: '0004A30B001C0530' },
          ],
        },
      ],
    }),
  ),
);
const ctx: DecodeContext = {
  registry,
  topics: new Topics('heat'),
  nowMs: NOW_MS,
  limits: {
    maxPayloadBytes: 64 * 1024,
    maxJsonDepth: 8,
    maxReadingsPerMessage: 100,
    futureToleranceMs: 5 * 60_000,
    maxReadingAgeMs: 72 * 3_600_000,
  },
};

const topic = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(
      'heat/sensors/b1-1-1/telemetry',
      'heat/sensors/b1-1-1/status',
      'heat/substations/ss-a/telemetry',
      'heat/weather/city/observation',
      'heat/weather/city/forecast',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'heat/sensors/nobody/telemetry',
      'heat/substations/ss-a/setpoint',
      'heat/sensors/__proto__/telemetry',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
);

/** Number-ish JSON text, including what JSON.stringify would never write. */
const numText = fc.oneof(
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : 'null')),
  fc.constantFrom(
    'NaN',
    'Infinity',
    '-Infinity',
    '1e400',
    '-1e400',
    '1e-400',
    '-0',
    '0x10',
    '"21.5"',
    'true',
    '[]',
    '{}',
    'null',
    '""',
  ),
  fc.integer({ min: -100, max: 200 }).map(String),
);
const tsText = fc.oneof(
  fc.integer({ min: NOW_MS - 100 * 3_600_000, max: NOW_MS + 3_600_000 }).map(String),
  fc.date({ noInvalidDate: true }).map((d) => JSON.stringify(d.toISOString())),
  fc.constantFrom(
    '"2026-01-15T12:00:00Z"',
    '"2026-13-45T99:00:00Z"',
    '"yesterday"',
    '-1',
    '1e30',
    '"1705320000000"',
    'null',
  ),
);
const keyText = fc.constantFrom(
  '"__proto__"',
  '"constructor"',
  '"prototype"',
  '"temp"',
  '"ts"',
  '"sensorId"',
  '"toString"',
);
/** A reading-like object as JSON text, with odd keys and values mixed in. */
const readingText = fc
  .tuple(
    fc.option(tsText),
    fc.option(numText),
    fc.array(fc.tuple(keyText, fc.oneof(numText, fc.constant('{"temp":99,"polluted":1}'))), { maxLength: 3 }),
    fc.constantFrom('temp', 'supplyTemp', 'outdoorTemp', 'online'),
  )
  .map(([ts, temp, extra, field]) => {
    const parts = [
      ...(ts !== null ? [`"ts":${ts}`] : []),
      ...(temp !== null ? [`"${field}":${temp}`, `"returnTemp":${temp}`] : []),
      ...extra.map(([k, v]) => `${k}:${v}`),
    ];
    return `{${parts.join(',')}}`;
  });

const payload = fc.oneof(
  { weight: 6, arbitrary: readingText.map((t) => Buffer.from(t)) },
  {
    weight: 3,
    arbitrary: fc.array(readingText, { maxLength: 120 }).map((a) => Buffer.from(`[${a.join(',')}]`)),
  },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)) },
  // Bad UTF-8 inside otherwise good JSON: a lone continuation byte, an overlong form, a surrogate.
  {
    weight: 1,
    arbitrary: fc
      .constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff])
      .map((b) => Buffer.concat([Buffer.from('{"ts":1,"temp":2'), Buffer.from(b), Buffer.from('}')])),
  },
  { weight: 1, arbitrary: fc.nat(5000).map((n) => Buffer.from(`${'['.repeat(n)}1${']'.repeat(n)}`)) },
  { weight: 1, arbitrary: fc.nat(5000).map((n) => Buffer.from(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)) },
  { weight: 1, arbitrary: fc.constantFrom(64 * 1024 + 1, 1024 * 1024).map((n) => Buffer.alloc(n, 0x20)) },
);

function checkAccepted(r: Extract<ReturnType<typeof decode>, { ok: true }>, t: string): void {
  const v = r.value;
  const inTime = (ts: number) =>
    Number.isFinite(ts) &&
    ts <= NOW_MS + ctx.limits.futureToleranceMs &&
    ts >= NOW_MS - ctx.limits.maxReadingAgeMs;
  if (v.kind === 'room')
    for (const x of v.readings) {
      // The topic says whose reading it is; a `sensorId` in the body cannot move it elsewhere.
      expect(x.sensorId).toBe(t.split('/')[2]);
      expect(Number.isFinite(x.tempC) && x.tempC >= -40 && x.tempC <= 60).toBe(true);
      expect(inTime(x.ts)).toBe(true);
    }
  if (v.kind === 'substation')
    for (const x of v.readings) {
      expect(Number.isFinite(x.supplyTempC) && Number.isFinite(x.returnTempC)).toBe(true);
      expect(inTime(x.ts)).toBe(true);
    }
  if (v.kind === 'observation') expect(Number.isFinite(v.observation.outdoorTempC)).toBe(true);
  for (const rej of r.rejected) expect(REASONS.has(rej.reason)).toBe(true);
}

describe('decode fuzzing', () => {
  it(
    `answers every message with a reading or a reason, never a throw (${RUNS} cases)`,
    () => {
      const reasons = new Map<string, number>();
      let accepted = 0;
      fc.assert(
        fc.property(topic, payload, (t, p) => {
          const r = decode(t, p, ctx);
          if (r.ok) {
            accepted++;
            checkAccepted(r, t);
          } else {
            expect(REASONS.has(r.reason)).toBe(true);
            expect(typeof r.detail).toBe('string');
            reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
          }
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(({} as Record<string, unknown>).temp).toBeUndefined();
        }),
        { numRuns: RUNS },
      );
      // The generator reaches acceptance and the main refusals, or the property proves little.
      expect(accepted).toBeGreaterThan(0);
      for (const reason of ['not_json', 'too_deep', 'too_large', 'bad_topic', 'temp_not_number'])
        expect(reasons.get(reason) ?? 0, reason).toBeGreaterThan(0);
    },
    long ? 3_600_000 : 120_000,
  );
});

/** Issue 17: uplinks of ChirpStack and The Things Stack, with codec objects or raw vendor bytes. */
const sources = new UplinkSources([
  { filter: 'application/+/device/+/event/up', format: 'chirpstack' },
  { filter: 'v3/+/devices/+/up', format: 'tts' },
]);
const EUIS = ['a84041000181c061', '24E124136B502217', '0004a30b001c0530', '0102030405060708', 'xyz', ''];
/** Vendor-looking bytes: real records with random values, cut anywhere, or plain noise. */
const vendorBytes = fc.oneof(
  fc
    .array(
      fc.oneof(
        fc.tuple(fc.constantFrom(0x01, 0x0c, 0x19), fc.uint8Array({ minLength: 2, maxLength: 2 })),
        fc.tuple(fc.constantFrom(0x02, 0x05, 0x11), fc.uint8Array({ minLength: 1, maxLength: 1 })),
        fc.tuple(fc.constant(0x13), fc.uint8Array({ minLength: 0, maxLength: 70 })),
        fc.tuple(fc.constantFrom(0x03, 0x04, 0xff, 0x20), fc.uint8Array({ minLength: 1, maxLength: 4 })),
      ),
      { maxLength: 6 },
    )
    .chain((recs) => {
      const all = Buffer.concat(recs.map(([t, v]) => Buffer.concat([Buffer.from([t]), v])));
      return fc.nat(all.length).map((n) => all.subarray(0, n));
    }),
  fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
);
const codecObject = fc.oneof(
  fc.record(
    { temperature: fc.oneof(fc.double(), fc.integer({ min: -60, max: 90 }), fc.string(), fc.constant(null)) },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);
const uplinkTime = fc.oneof(
  fc
    .integer({ min: NOW_MS - 100 * 3_600_000, max: NOW_MS + 3_600_000 })
    .map((t) => new Date(t).toISOString()),
  fc.constantFrom('2026-01-15T11:59:00.123456789+00:00', 'now', '', 17),
);
const uplink = fc
  .record(
    {
      format: fc.constantFrom('chirpstack', 'tts'),
      eui: fc.constantFrom(...EUIS),
      time: uplinkTime,
      fCnt: fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 }), fc.constant('7')),
      object: codecObject,
      bytes: fc.oneof(
        vendorBytes.map((b) => b.toString('base64')),
        fc.constantFrom('!!', 'AQ', 7),
      ),
    },
    { requiredKeys: ['format'] },
  )
  .map((u) => {
    const body =
      u.format === 'chirpstack'
        ? { deviceInfo: { devEui: u.eui }, time: u.time, fCnt: u.fCnt, object: u.object, data: u.bytes }
        : {
            end_device_ids: { dev_eui: u.eui },
            received_at: u.time,
            uplink_message: { f_cnt: u.fCnt, decoded_payload: u.object, frm_payload: u.bytes },
          };
    const topic = u.format === 'chirpstack' ? 'application/1/device/x/event/up' : 'v3/a@t/devices/d/up';
    return { topic, payload: Buffer.from(JSON.stringify(body)) };
  });

describe('uplink decode fuzzing', () => {
  it(
    `answers every network-server uplink with a reading or a reason (${RUNS} cases)`,
    () => {
      const reasons = new Map<string, number>();
      let accepted = 0;
      fc.assert(
        fc.property(
          fc.oneof(
            { weight: 4, arbitrary: uplink },
            {
              weight: 1,
              arbitrary: fc.record({
                topic: fc.constantFrom('application/1/device/x/event/up', 'v3/a@t/devices/d/up'),
                payload: payload,
              }),
            },
          ),
          ({ topic: t, payload: p }) => {
            const r = decodeMessage(t, p, ctx, sources);
            if (r.ok) {
              accepted++;
              expect(r.value.kind).toBe('room');
              if (r.value.kind !== 'room') return;
              for (const x of r.value.readings) {
                expect(['b1-1-2', 'b1-1-3', 'b1-2-1']).toContain(x.sensorId);
                expect(Number.isFinite(x.tempC) && x.tempC >= -40 && x.tempC <= 60).toBe(true);
                expect(Number.isInteger(x.seq) && (x.seq ?? -1) >= 0).toBe(true);
              }
            } else {
              expect(REASONS.has(r.reason)).toBe(true);
              reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + 1);
            }
          },
        ),
        { numRuns: RUNS },
      );
      expect(accepted).toBeGreaterThan(0);
      for (const reason of ['bad_payload', 'no_decoder', 'unknown_sensor', 'bad_shape', 'temp_out_of_range'])
        expect(reasons.get(reason) ?? 0, reason).toBeGreaterThan(0);
    },
    long ? 3_600_000 : 120_000,
  );
});
