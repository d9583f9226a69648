import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/loader.ts';

/**
 * Issue 6: the config loader meets whatever an engineer (or a broken deploy) puts in config/: it
 * either loads or refuses with a ConfigError naming the problems. It never throws anything else,
 * hangs, or lets a `__proto__` key reach Object.prototype.
 */
const long = process.env.HEATWATCH_FAULTS === 'long';
const RUNS = long ? 100_000 : 2_000;

const NETWORK = `
weatherStation: city
substations:
  - id: ss-a
    curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 }
buildings:
  - id: b1
    substation: ss-a
    floors: 4
    unitsPerFloor: 3
    sensors:
      - { floor: 1, column: 1 }
      - { floor: 4, column: 2 }
`;
const SERVICE = `
mqtt:
  port: 1884
  limits: { maxPayloadBytes: 65536, devicePublishesPerMin: 120 }
http: { port: 8080 }
`;
const FILES = ['network.yaml', 'heatwatch.yaml', 'rules.yaml', 'sim.yaml', 'users.yaml'] as const;

/** Values that have broken parsers before: non-finite numbers, huge and negative ones, odd strings. */
const nasty = fc.oneof(
  fc.constantFrom(
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    -0,
    2 ** 53 + 1,
    -1e308,
    1e-320,
  ),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    '',
    ' ',
    '\u0000',
    '\ud800',
    '💥',
    'a'.repeat(1000),
  ),
  fc.constantFrom(null, true, [], {}),
  fc.integer(),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    nasty,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.string({ maxLength: 8 })),
      tie('v'),
      {
        maxKeys: 4,
      },
    ),
  ),
})).v;

/** Sets `v` at a random path of `obj` (a deep copy), creating levels as needed. */
function mutate(obj: unknown, path: Array<string | number>, v: unknown): unknown {
  const root = structuredClone(obj) as Record<string, unknown>;
  if (path.length === 0) return v;
  let cur: Record<string | number, unknown> = root;
  for (const key of path.slice(0, -1)) {
    // Own properties only: reading `cur['__proto__']` would walk into Object.prototype and pollute it.
    const next = Object.hasOwn(cur, key) ? cur[key] : undefined;
    if (typeof next !== 'object' || next === null) {
      Object.defineProperty(cur, key, { value: {}, enumerable: true, writable: true, configurable: true });
    }
    cur = cur[key] as Record<string, unknown>;
  }
  Object.defineProperty(cur, path[path.length - 1]!, {
    value: v,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return root;
}

const pathKeys = fc.array(
  fc.oneof(
    fc.constantFrom(
      'mqtt',
      'limits',
      'port',
      'substations',
      'buildings',
      'sensors',
      'curve',
      'floor',
      'id',
      '__proto__',
    ),
    fc.nat(3),
  ),
  { maxLength: 5 },
);

/** Hostile files too slow to parse thousands of times (yaml takes ~1 s each): checked once, below. */
const HEAVY: Record<string, string> = {
  'a 1 MB scalar': `x: "${'y'.repeat(1024 * 1024)}"`,
  '3000 nested flow sequences': `${'['.repeat(3000)}${']'.repeat(3000)}`,
  '3000 nested block mappings': `${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i % 200)}a:`).join('\n')} 1`,
  'an alias bomb': `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n`,
};

/** One file's text: structured mutations of a valid file, raw text, bad UTF-8, nesting, duplicates. */
const fileText = (base: string): fc.Arbitrary<string | Buffer> =>
  fc.oneof(
    {
      arbitrary: fc.tuple(pathKeys, value).map(([path, v]) => stringify(mutate(parse(base), path, v))),
      weight: 6,
    },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 300 }), weight: 2 },
    {
      arbitrary: fc
        .uint8Array({ maxLength: 300 })
        .map((b) => Buffer.concat([Buffer.from(base), Buffer.from(b)])),
      weight: 2,
    },
    { arbitrary: fc.nat(60).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`), weight: 1 },
    {
      arbitrary: fc
        .nat(60)
        .map((n) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} 1`),
      weight: 1,
    },
    { arbitrary: fc.constant(`${base}\n${base}`), weight: 1 },
  );

const envArb = fc.record(
  {
    HEATWATCH_HTTP_PORT: fc.oneof(fc.string({ maxLength: 6 }), fc.integer().map(String)),
    HEATWATCH_MQTT_PORT: fc.string({ maxLength: 6 }),
    HEATWATCH_MQTT_URL: fc.oneof(fc.string({ maxLength: 20 }), fc.webUrl()),
    HEATWATCH_SIM: fc.string({ maxLength: 4 }),
    HEATWATCH_SPEED: fc.oneof(fc.string({ maxLength: 6 }), fc.double().map(String)),
    HEATWATCH_INFLUX_URL: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: [] },
);

describe('config loader fuzzing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-cfgfuzz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(Object.entries(HEAVY))('refuses %s with a ConfigError', (_name, text) => {
    writeFileSync(join(dir, 'network.yaml'), NETWORK);
    writeFileSync(join(dir, 'heatwatch.yaml'), text);
    expect(() => loadConfig(dir, {})).toThrow(ConfigError);
  });

  it(
    `loads or refuses with a ConfigError, nothing else (${RUNS} cases)`,
    () => {
      const outcomes = { loaded: 0, refused: 0 };
      const mutated = fc
        .constantFrom(...FILES)
        .chain((file) =>
          fileText(file === 'network.yaml' ? NETWORK : file === 'heatwatch.yaml' ? SERVICE : '{}\n').map(
            (text) => ({ file, text }),
          ),
        );
      fc.assert(
        fc.property(mutated, fc.option(envArb, { nil: undefined }), ({ file, text }, env) => {
          writeFileSync(join(dir, 'network.yaml'), NETWORK);
          writeFileSync(join(dir, 'heatwatch.yaml'), SERVICE);
          for (const f of FILES.slice(2)) rmSync(join(dir, f), { force: true });
          writeFileSync(join(dir, file), text);
          try {
            loadConfig(dir, (env ?? {}) as Record<string, string>);
            outcomes.loaded++;
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            // Every issue names a file, as engineers are promised (CONTRIBUTING.md convention 6).
            for (const issue of err.issues) expect(issue.file).toBeTruthy();
            outcomes.refused++;
          }
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          expect(Object.keys(Object.prototype)).toEqual([]);
        }),
        { numRuns: RUNS },
      );
      // The generator must reach both sides, or the property proves little.
      expect(outcomes.loaded).toBeGreaterThan(0);
      expect(outcomes.refused).toBeGreaterThan(RUNS / 10);
    },
    // From the work: 2000 cases took 155 s inside `npm test` with stress-ng beside it (load average
    // 24); allow 200 ms a case, and an hour for the long form's 100 000.
    long ? 3_600_000 : Math.max(120_000, RUNS * 200),
  );
});
