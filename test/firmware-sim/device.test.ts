import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { devicePassword, SensorFirmware, type WireReading } from '../../firmware-sim/device.ts';
import { quietScenario } from './helpers.ts';

const START = Date.UTC(2026, 0, 15);
const DAY = 86_400_000;

function runFor(fw: SensorFirmware, untilMs: number, online: (ts: number) => boolean, tempC = 20.04) {
  const messages = [];
  while (fw.nextDueMs <= untilMs) {
    const ts = fw.nextDueMs;
    messages.push(...fw.report(ts, tempC, online(ts)).map((m) => ({ ts, ...m })));
  }
  return messages;
}

describe('sensor firmware', () => {
  it('reports on its interval with jitter, 0.1 °C resolution, rising seq and a slowly falling battery', () => {
    const fw = new SensorFirmware('s-1', 300_000, quietScenario(), START);
    const msgs = runFor(fw, START + 10 * DAY, () => true);
    const readings = msgs.map((m) => JSON.parse(m.payload) as WireReading);
    expect(readings.length).toBeGreaterThan(2800);
    expect(readings.length).toBeLessThan(2960);
    for (let i = 1; i < readings.length; i++) {
      const gap = readings[i]!.ts - readings[i - 1]!.ts;
      expect(gap).toBeGreaterThanOrEqual(270_000);
      expect(gap).toBeLessThanOrEqual(330_000);
      expect(readings[i]!.seq).toBe(readings[i - 1]!.seq + 1);
    }
    for (const r of readings) expect(Math.abs(r.temp * 10 - Math.round(r.temp * 10))).toBeLessThan(1e-9);
    const temps = readings.map((r) => r.temp);
    const mean = temps.reduce((a, b) => a + b, 0) / temps.length;
    expect(Math.abs(mean - 20.04)).toBeLessThan(0.5);
    expect(new Set(temps).size).toBeGreaterThan(3);
    expect(readings.at(-1)!.battery).toBeLessThan(readings[0]!.battery);
    expect(readings[0]!.battery - readings.at(-1)!.battery).toBeCloseTo(0.02, 1);
  });

  it('buffers while offline and sends the backlog as one array, oldest first, bounded by bufferMax', () => {
    const sc = quietScenario({ devices: { bufferMax: 10 } });
    const fw = new SensorFirmware('s-2', 60_000, sc, START);
    const offlineUntil = START + 30 * 60_000;
    const during = runFor(fw, offlineUntil, () => false);
    expect(during).toEqual([]);
    expect(fw.buffered).toBe(10);
    expect(fw.droppedFromBuffer).toBeGreaterThan(15);
    const [batch, ...rest] = fw.flush();
    expect(rest).toEqual([]);
    expect(batch!.kind).toBe('batch');
    const readings = JSON.parse(batch!.payload) as WireReading[];
    expect(readings).toHaveLength(10);
    expect(readings.map((r) => r.seq)).toEqual([...readings.map((r) => r.seq)].sort((a, b) => a - b));
    expect(fw.buffered).toBe(0);
  });

  it('derives its password as hex(HMAC-SHA256(deviceKey, id))', () => {
    expect(devicePassword('k', 'n01-1-2')).toBe(createHmac('sha256', 'k').update('n01-1-2').digest('hex'));
    expect(devicePassword('k', 'n01-1-2')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same device for the same seed, and injects each fault kind at about its rate', () => {
    const sc = quietScenario({
      messageFaults: { malformedRate: 0.02, duplicateRate: 0.02, outOfOrderRate: 0.02 },
    });
    const a = runFor(new SensorFirmware('s-3', 60_000, sc, START), START + 5 * DAY, () => true);
    const b = runFor(new SensorFirmware('s-3', 60_000, sc, START), START + 5 * DAY, () => true);
    expect(a).toEqual(b);
    const count = (k: string) => a.filter((m) => m.kind === k).length;
    const n = 5 * 24 * 60;
    for (const k of ['malformed', 'duplicate', 'out_of_order']) {
      expect(count(k)).toBeGreaterThan(n * 0.02 * 0.6);
      expect(count(k)).toBeLessThan(n * 0.02 * 1.4);
    }
    for (const m of a.filter((x) => x.kind === 'malformed')) {
      let ok = false;
      try {
        const o = JSON.parse(m.payload);
        ok = typeof o.temp === 'number' && o.temp < 60 && typeof o.ts === 'number';
      } catch {}
      expect(ok).toBe(false);
    }
  });
});
