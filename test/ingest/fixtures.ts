import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The payload corpus: one file per payload variant, named `{kind}[-reject-{reason}|-partial]--{variant}.json`. */
export const FIXTURE_DIR = join(import.meta.dirname, '..', 'fixtures', 'payloads');

/** The instant the fixtures' timestamps are written against (5 minutes after their `ts`). */
export const FIXTURE_NOW_MS = Date.UTC(2026, 0, 15, 0, 0, 0);

export type FixtureKind = 'room' | 'substation' | 'status' | 'observation' | 'forecast';

export interface Fixture {
  name: string;
  kind: FixtureKind;
  /** `accepted`, `partial` (some items refused) or the RejectReason expected. */
  expect: string;
  payload: Buffer;
}

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.json'.length);
      const [head = ''] = name.split('--');
      const [kind, ...rest] = head.split('-');
      let expect = 'accepted';
      if (rest[0] === 'partial') expect = 'partial';
      else if (rest[0] === 'reject') expect = rest.slice(1).join('-');
      return { name, kind: kind as FixtureKind, expect, payload: readFileSync(join(FIXTURE_DIR, file)) };
    });
}

/** The topic a fixture is published on, for a sensor / substation / station id. */
export function fixtureTopic(
  root: string,
  kind: FixtureKind,
  ids: { sensorId: string; substationId: string; stationId: string },
): string {
  switch (kind) {
    case 'room':
      return `${root}/sensors/${ids.sensorId}/telemetry`;
    case 'status':
      return `${root}/sensors/${ids.sensorId}/status`;
    case 'substation':
      return `${root}/substations/${ids.substationId}/telemetry`;
    case 'observation':
      return `${root}/weather/${ids.stationId}/observation`;
    case 'forecast':
      return `${root}/weather/${ids.stationId}/forecast`;
  }
}

/** Messages no file can hold sensibly: binary junk, a huge payload, deep JSON. */
export function generatedRejects(
  maxPayloadBytes: number,
  maxJsonDepth: number,
): Array<{ name: string; expect: string; payload: Buffer }> {
  return [
    {
      name: 'binary junk',
      expect: 'not_utf8',
      payload: Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0xc3, 0x28, 0x80]),
    },
    {
      name: 'huge payload',
      expect: 'too_large',
      payload: Buffer.from(`{"ts": 1, "temp": 20, "pad": "${'x'.repeat(maxPayloadBytes)}"}`),
    },
    {
      name: 'deep JSON',
      expect: 'too_deep',
      payload: Buffer.from(`${'['.repeat(maxJsonDepth + 1)}${']'.repeat(maxJsonDepth + 1)}`),
    },
    {
      name: 'very deep JSON (would overflow a naive recursive parser)',
      expect: 'too_deep',
      payload: Buffer.from(`{"a":${'['.repeat(3000)}`),
    },
  ];
}
