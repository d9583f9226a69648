import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { bulletinCsv, bulletinHtml } from '../../src/households/report-render.ts';
import { translator } from '../../src/i18n/index.ts';
import { HOUR, households, sensorReading } from './support.ts';

const index = loadConfig('config', {}).registry;
const MIN = 60_000;

/** A room reading of a demo sensor at the clock's time. */
const reading = (sensorId: string, tempC: number, ts: number) =>
  sensorReading(index.sensors.get(sensorId)!, tempC, ts);

describe('households digest and bulletin for a scripted day', () => {
  it('count what happened: compliance bands, cases, complaints by class and channel, rates, hotspots', async () => {
    const start = Date.UTC(2026, 0, 15, 8);
    const clock = new ManualClock(start);
    const bus = new EventBus<HeatEvents>();
    const hh = households({
      clock,
      bus,
      index,
      cfg: { cases: { watchH: 4 }, complaints: { measurementDueH: 23 } },
    });
    await hh.mod.start();
    const temps: Record<string, number> = { 'n01-6-1': 15, 'n01-1-2': 13, 'n01-3-2': 20.5, 'r01-3-2': 19 };
    const feed = () =>
      bus.emit(
        'roomReadings',
        Object.entries(temps).map(([id, t]) => reading(id, t, clock.now())),
      );
    feed();
    const step = async (ms: number) => {
      for (let t = 0; t < ms; t += 10 * MIN) {
        clock.advance(10 * MIN);
        feed();
        await hh.svc.idle();
      }
    };
    const file = (unit: string, cls: string, channel: string) =>
      hh.svc.fileComplaint({ unit, cls, channel, caller: 'resident', text: 'see notes' } as never, 'otto');

    await step(HOUR);
    await file('n01/6-1', 'temperature', 'hotline');
    await file('n01/6-1', 'temperature', 'app'); // joins, counted
    await file('n01/1-2', 'temperature', 'online');
    await file('n02/3-3', 'equipment', 'online');
    await file('r01/3-2', 'fees', 'visit');
    await step(3 * HOUR);
    // One household measured warm: its watch of 4 h holds, and its complaint closes in time.
    await hh.svc.recordMeasurement(
      {
        unit: 'n01/1-2',
        ts: clock.now(),
        rooms: [{ room: 'living', tempC: 18.5 }],
        measuredBy: ['Wang Wei', 'Zhao Min'],
      },
      'otto',
    );
    temps['n01-1-2'] = 13; // the sensor still reads cold: the measurement is the reference for 48 h
    await step(20 * HOUR); // 23 h after the complaints: their tasks (due within 23 h here) are overdue

    const digests = await hh.mod.reporter.runDigest();
    const north = digests.find((d) => d.heatingUnit === 'ss-north')!;
    expect(north.openCases.map((k) => k.unit)).toEqual(['n01/6-1']);
    expect(north.overdueTasks.map((t) => t.unit)).toEqual(['n01/6-1']);
    expect(digests.map((d) => d.heatingUnit)).toEqual(['ss-north']);

    const b = await hh.mod.reporter.runBulletin();
    const c = b.company;
    expect(c.complaints.received).toBe(5);
    expect(c.complaints.byClass).toEqual({ temperature: 3, equipment: 1, service: 0, fees: 1, other: 0 });
    expect(c.complaints.byChannel).toEqual({ hotline: 1, online: 2, app: 1, visit: 1 });
    expect(c.cases).toEqual({ opened: 2, closed: 1, open: 1, overdue: 0 });
    expect(c.compliance).toMatchObject({ flatsSeen: 4, flatsLowBand: 1, flatsVeryLowBand: 1 });
    // Two of four flats in band all day: half the unit-hours; 3 K and 5 K below 18 °C for ~24 h each.
    expect(c.compliance.inBandShare).toBeCloseTo(0.5, 2);
    expect(c.compliance.degreeHoursBelow).toBeGreaterThan(8 * 23);
    expect(c.compliance.degreeHoursBelow).toBeLessThanOrEqual(8 * 24);
    // The measured household's complaint closed within its limit; four are still open.
    expect(c.rates).toMatchObject({ complaintsClosed: 1, closedShare: 0.2, closedInTimeShare: 1 });
    expect(b.heatingUnits.find((u) => u.id === 'ss-river')!.complaints.byClass.fees).toBe(1);
    expect(b.worstBuildings[0]).toMatchObject({ buildingId: 'n01', complaints: 3 });
    expect(b.hotspots.buildings).toEqual([{ buildingId: 'n01', name: 'n01', complaints: 3 }]);
    expect(b.hotspots.streets).toEqual([{ street: 'Birch Road', complaints: 4 }]);

    // Kept in the ops database and rendered for people and spreadsheets.
    expect((await hh.store.reports('bulletin', 5)).map((r) => r.id)).toEqual([b.id]);
    const html = bulletinHtml(b, 'demo', translator('en', 'Asia/Shanghai'));
    expect(html).toContain('Birch Road');
    expect(html).toContain('Repeat hotspots');
    expect(html).not.toMatch(/\b1\d{12}\b/); // no epoch numbers
    const csv = bulletinCsv(b, 'units').split('\n');
    expect(csv[0]).toMatch(/^heatingUnit,inBandShare,degreeHoursBelow18,flats14to16C,flatsBelow14C,/);
    expect(csv[1]).toMatch(/^company,50 %,/);
    // In the reader's language: the same figures, the words and the complaint classes in Chinese.
    const zh = translator('zh-CN', 'Asia/Shanghai');
    const zhHtml = bulletinHtml(b, 'demo', zh);
    expect(zhHtml).toContain('<html lang="zh-CN">');
    expect(zhHtml).toContain('供热日报 — demo');
    expect(zhHtml).toContain('重复投诉热点');
    expect(zhHtml).toContain('<td>收费</td>');
    expect(zhHtml).toContain('街道 Birch Road');
    expect(zhHtml).not.toContain('Repeat hotspots');
    const zhCsv = bulletinCsv(b, 'units', zh).split('\n');
    expect(zhCsv[0]).toMatch(/^供热单位,达标率,/);
    expect(zhCsv[1]).toBe(csv[1]);
    await hh.mod.stop();
  });
});
