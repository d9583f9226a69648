import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { SubstationReading } from '../../src/core/readings.ts';
import { DeadLetters } from '../../src/storage/dead-letters.ts';
import { Journal } from '../../src/storage/journal.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import { tempDir } from '../main/support.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const meter = (ts: number): SubstationReading => ({
  substationId: 'ss-north',
  ts,
  supplyTempC: 55,
  returnTempC: 40,
});

describe('journal (the spool)', () => {
  it('hands rows back oldest first in batches of whole messages, and keeps them across a reopen until removed', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const clock = new ManualClock();
    const opts = {
      file: join(t.dir, 'journal.db'),
      synchronous: 'NORMAL' as const,
      syncIntervalMs: 1000,
      maxBytes: 1 << 20,
    };
    const j = new Journal(opts, clock);
    j.start();
    for (let i = 0; i < 5; i++) j.append('substation', [meter(i * 2), meter(i * 2 + 1)], clock.now() + i);
    expect(j.stats()).toMatchObject({ depth: 5, readings: 10, oldestReceivedMs: clock.now() });
    const batch = j.peek(3);
    // Whole messages: 3 readings asked, 2 messages (4 readings) given.
    expect(batch.map((r) => r.readings.map((x) => x.ts))).toEqual([
      [0, 1],
      [2, 3],
    ]);
    j.remove(batch);
    j.stop();

    const again = new Journal(opts, clock);
    again.start();
    expect(again.stats()).toMatchObject({ depth: 3, readings: 6 });
    expect(again.peek(100).flatMap((r) => r.readings.map((x) => x.ts))).toEqual([4, 5, 6, 7, 8, 9]);
    again.append('substation', [meter(10)], clock.now());
    const all = again.peek(100);
    expect(all.at(-1)?.readings[0]?.ts).toBe(10);
    again.remove(all);
    expect(again.stats()).toMatchObject({ depth: 0, readings: 0, bytes: 0, oldestReceivedMs: undefined });
    again.stop();
  });

  it('appends a group of messages in one transaction: all of them, or none when one cannot be written', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const clock = new ManualClock();
    const j = new Journal(
      { file: join(t.dir, 'journal.db'), synchronous: 'NORMAL', syncIntervalMs: 1000, maxBytes: 1 << 20 },
      clock,
    );
    j.start();
    j.appendMany([
      { kind: 'substation', readings: [meter(1)], receivedMs: 1 },
      { kind: 'substation', readings: [meter(2), meter(3)], receivedMs: 2 },
    ]);
    expect(j.stats()).toMatchObject({ depth: 2, readings: 3 });
    // The table's CHECK refuses the second entry: the first, already inserted, is rolled back with it.
    expect(() =>
      j.appendMany([
        { kind: 'substation', readings: [meter(4)], receivedMs: 3 },
        { kind: 'bogus' as 'room', readings: [meter(5)], receivedMs: 3 },
      ]),
    ).toThrow(/CHECK/);
    expect(j.stats()).toMatchObject({ depth: 2, readings: 3 });
    expect(j.peek(100).flatMap((r) => r.readings.map((x) => x.ts))).toEqual([1, 2, 3]);
    j.stop();
  });

  it('reports over budget once its bodies pass maxBytes, and a second process cannot open it', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const clock = new ManualClock();
    const opts = {
      file: join(t.dir, 'journal.db'),
      synchronous: 'FULL' as const,
      syncIntervalMs: 1000,
      maxBytes: 1024 * 1024,
    };
    const j = new Journal(opts, clock);
    j.start();
    const big = Array.from({ length: 1000 }, (_, i) => meter(i));
    while (!j.overBudget) j.append('substation', big, clock.now());
    expect(j.stats().bytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect(() => new Journal(opts, clock).start()).toThrow(/locked/);
    j.remove(j.peek(1));
    expect(j.overBudget).toBe(false);
    j.stop();
  });
});

describe('dead letters', () => {
  it('keep topic, bounded payload with its original size, reason and detail, and are pruned after retention', () => {
    const clock = new ManualClock();
    const db = openOpsDb(':memory:');
    const dl = new DeadLetters(db, { payloadBytes: 64, retentionDays: 1 }, clock);
    dl.add('heat/sensors/x/telemetry', Buffer.alloc(1000, 0x41), 'too_large', 'big');
    clock.advance(12 * 3_600_000);
    dl.add('heat/sensors/y/telemetry', Buffer.from('nope'), 'not_json', 'Unexpected token');
    const [newest, oldest] = dl.recent(10);
    expect(newest).toMatchObject({ topic: 'heat/sensors/y/telemetry', reason: 'not_json', payloadBytes: 4 });
    expect(oldest?.payload.length).toBe(64);
    expect(oldest?.payloadBytes).toBe(1000);
    expect(dl.countByReason()).toEqual({ too_large: 1, not_json: 1 });
    clock.advance(13 * 3_600_000);
    expect(dl.prune()).toBe(1);
    expect(dl.recent(10).map((d) => d.reason)).toEqual(['not_json']);
    db.close();
  });
});
