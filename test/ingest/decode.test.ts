import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { type DecodeContext, decode } from '../../src/ingest/decode.ts';
import { jsonDepth } from '../../src/ingest/json-depth.ts';
import { Topics } from '../../src/mqtt/topics.ts';
import { FIXTURE_NOW_MS, fixtureTopic, generatedRejects, loadFixtures } from './fixtures.ts';

const config = loadConfig('config', {});
const registry = config.registry;
// n01-6-1: top floor, first column → top and gable.
const ids = { sensorId: 'n01-6-1', substationId: 'ss-north', stationId: 'city' };
const ctx: DecodeContext = {
  registry,
  topics: new Topics('heat'),
  nowMs: FIXTURE_NOW_MS,
  limits: {
    maxPayloadBytes: 4096,
    maxJsonDepth: 8,
    maxReadingsPerMessage: 50,
    futureToleranceMs: 5 * 60_000,
    maxReadingAgeMs: 72 * 3_600_000,
  },
};

describe('decode: the payload corpus', () => {
  for (const f of loadFixtures()) {
    it(`${f.name} → ${f.expect}`, () => {
      const r = decode(fixtureTopic('heat', f.kind, ids), f.payload, ctx);
      if (f.expect === 'accepted') {
        expect(r.ok && r.rejected).toEqual([]);
      } else if (f.expect === 'partial') {
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.rejected.length).toBeGreaterThan(0);
      } else {
        expect(r.ok ? 'accepted' : r.reason).toBe(f.expect);
      }
    });
  }

  for (const g of generatedRejects(ctx.limits.maxPayloadBytes, ctx.limits.maxJsonDepth)) {
    it(`${g.name} → ${g.expect}`, () => {
      const r = decode(fixtureTopic('heat', 'room', ids), g.payload, ctx);
      expect(r.ok ? 'accepted' : r.reason).toBe(g.expect);
    });
  }
});

describe('decode: enrichment and edges', () => {
  it('enriches a room reading with building, substation, floor, column and position classes', () => {
    const r = decode(
      ids && 'heat/sensors/n01-6-1/telemetry',
      Buffer.from('{"ts":1768434900000,"temp":19.5}'),
      ctx,
    );
    expect(r.ok && r.value).toEqual({
      kind: 'room',
      readings: [
        {
          sensorId: 'n01-6-1',
          ts: 1768434900000,
          tempC: 19.5,
          buildingId: 'n01',
          substationId: 'ss-north',
          floor: 6,
          column: 1,
          classes: ['top', 'gable'],
          source: 'sensor',
        },
      ],
    });
  });

  it('reads the offset and the command id a substation controller reports as in force', () => {
    const topic = 'heat/substations/ss-north/telemetry';
    const body = (extra: string) =>
      Buffer.from(`{"ts":1768434900000,"supplyTemp":60,"returnTemp":40${extra}}`);
    const r = decode(topic, body(',"supplyOffset":2.5,"setpointId":"SP-00007"'), ctx);
    expect(r.ok && r.value.kind === 'substation' && r.value.readings[0]).toMatchObject({
      supplyOffsetC: 2.5,
      setpointId: 'SP-00007',
    });
    const refused = (extra: string) => {
      const x = decode(topic, body(extra), ctx);
      return x.ok ? 'accepted' : x.reason;
    };
    expect(refused(',"setpointId":7')).not.toBe('accepted');
    expect(refused(',"setpointId":""')).not.toBe('accepted');
    expect(refused(`,"setpointId":"${'x'.repeat(101)}"`)).not.toBe('accepted');
  });

  it('ignores unknown fields and never lets __proto__ reach a prototype', () => {
    const r = decode(
      'heat/sensors/n01-3-3/telemetry',
      Buffer.from('{"ts":1768434900000,"temp":21,"__proto__":{"polluted":1},"newField":[1,2]}'),
      ctx,
    );
    expect(r.ok).toBe(true);
    if (r.ok && r.value.kind === 'room') {
      const reading = r.value.readings[0] as unknown as Record<string, unknown>;
      expect(reading.polluted).toBeUndefined();
      expect(reading.newField).toBeUndefined();
      expect(r.value.readings[0]?.classes).toEqual(['middle']);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts the good items of an array and refuses each bad one with its own reason', () => {
    const r = decode(
      'heat/sensors/n01-1-2/telemetry',
      Buffer.from(
        '[{"ts":1768434900000,"temp":20},{"temp":20},{"ts":1768434900000,"temp":"x"},{"ts":1768434800000,"temp":21}]',
      ),
      ctx,
    );
    expect(r.ok).toBe(true);
    if (!r.ok || r.value.kind !== 'room') return;
    expect(r.value.readings.map((x) => x.tempC)).toEqual([20, 21]);
    expect(r.rejected.map((x) => [x.index, x.reason])).toEqual([
      [1, 'ts_missing'],
      [2, 'temp_not_number'],
    ]);
  });

  it('refuses more readings than ingest.maxReadingsPerMessage', () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ ts: 1768434900000 - i * 1000, temp: 20 }));
    const r = decode('heat/sensors/n01-1-2/telemetry', Buffer.from(JSON.stringify(many)), ctx);
    expect(r.ok ? 'accepted' : r.reason).toBe('too_many_readings');
  });

  it('refuses unknown sensors and substations, foreign topics and heatwatch’s own setpoints', () => {
    const body = Buffer.from('{"ts":1768434900000,"temp":20}');
    const reason = (topic: string) => {
      const r = decode(topic, body, ctx);
      return r.ok ? 'accepted' : r.reason;
    };
    expect(reason('heat/sensors/nobody/telemetry')).toBe('unknown_sensor');
    expect(reason('heat/substations/ss-nowhere/telemetry')).toBe('unknown_substation');
    expect(reason('other/sensors/n01-1-2/telemetry')).toBe('bad_topic');
    expect(reason('heat/sensors/n01-1-2/telemetry/extra')).toBe('bad_topic');
    expect(reason('heat/substations/ss-north/setpoint')).toBe('bad_topic');
  });

  it('reads ISO 8601 with an offset and refuses dates without one', () => {
    const ok = decode(
      'heat/sensors/n01-1-2/telemetry',
      Buffer.from('{"ts":"2026-01-15T07:58:00+08:00","temp":20}'),
      ctx,
    );
    expect(ok.ok && ok.value.kind === 'room' && ok.value.readings[0]?.ts).toBe(Date.UTC(2026, 0, 14, 23, 58));
    const local = decode(
      'heat/sensors/n01-1-2/telemetry',
      Buffer.from('{"ts":"2026-01-15 07:58","temp":20}'),
      ctx,
    );
    expect(local.ok ? 'accepted' : local.reason).toBe('ts_unparsable');
  });

  it('measures JSON depth outside strings only', () => {
    expect(jsonDepth('{"a":"[[[[[[[[[["}', 8)).toBe(1);
    expect(jsonDepth('{"a":"\\"[[[","b":[[1]]}', 8)).toBe(3);
  });
});
