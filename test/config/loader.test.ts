import { cpSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, formatIssue, loadConfig, tryLoadConfig } from '../../src/config/loader.ts';
import { samplingCoverage } from '../../src/core/registry.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-config-'));
  cpSync('config', dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (file: string, text: string) => writeFileSync(join(dir, file), text);

/** Loads `dir` and returns the formatted issues (expects failure). */
function issuesOf(env: Record<string, string> = {}): string[] {
  const r = tryLoadConfig(dir, env);
  if (r.ok) throw new Error('expected the config to be refused');
  return r.issues.map(formatIssue);
}

describe('the shipped demo config', () => {
  it('loads and describes a network of the promised size', () => {
    const cfg = loadConfig('config', {});
    expect(cfg.registry.substations.size).toBeGreaterThanOrEqual(3);
    expect(cfg.registry.buildings.size).toBeGreaterThanOrEqual(12);
    expect(cfg.registry.sensors.size).toBeGreaterThanOrEqual(200);
    for (const b of cfg.registry.buildings.values()) {
      expect(b.floors).toBeGreaterThanOrEqual(5);
      expect(b.floors).toBeLessThanOrEqual(18);
      expect(b.unitsPerFloor).toBeGreaterThanOrEqual(2);
      expect(b.unitsPerFloor).toBeLessThanOrEqual(6);
    }
  });

  it('samples every building by the 40 % rule of docs/domain.md', () => {
    const cfg = loadConfig('config', {});
    for (const [id, sensors] of cfg.registry.sensorsByBuilding) {
      const cov = samplingCoverage(sensors);
      expect(cov.exposedShare, id).toBeGreaterThanOrEqual(0.4);
    }
  });

  it('takes overrides from the environment', () => {
    const cfg = loadConfig('config', {
      HEATWATCH_HTTP_PORT: '9090',
      HEATWATCH_MQTT_URL: 'mqtt://broker.example:1883',
      HEATWATCH_SIM: 'off',
      HEATWATCH_ADMIN_TOKEN: 'secret-admin',
      HEATWATCH_INFLUX_URL: 'http://influx:8086',
      HEATWATCH_INFLUX_TOKEN: 'tok',
    });
    expect(cfg.service.http.port).toBe(9090);
    expect(cfg.service.mqtt.mode).toBe('external');
    expect(cfg.service.mqtt.url).toBe('mqtt://broker.example:1883');
    expect(cfg.service.sim.enabled).toBe(false);
    expect(cfg.service.store.kind).toBe('influxdb');
    expect(cfg.secrets).toMatchObject({ adminToken: 'secret-admin', influxToken: 'tok' });
  });

  it('changes its version with any edit', () => {
    const a = loadConfig(dir, {}).version;
    write('heatwatch.yaml', 'site: other\n');
    expect(loadConfig(dir, {}).version).not.toBe(a);
  });
});

describe('a bad config is refused with file, path and problem', () => {
  it('YAML syntax error names the line', () => {
    write('heatwatch.yaml', 'mqtt:\n  port: [1884\n');
    const issues = issuesOf();
    expect(issues[0]).toMatch(/^heatwatch\.yaml: line \d+ column \d+: YAML syntax/);
  });

  it('a key given twice is refused, not silently overridden', () => {
    write('heatwatch.yaml', 'site: a\nsite: b\n');
    expect(issuesOf()[0]).toMatch(/^heatwatch\.yaml: line 2 .*YAML syntax: .*[Mm]ap keys must be unique/);
  });

  it('a wrong type names the path', () => {
    write('heatwatch.yaml', 'mqtt:\n  port: "eighteen"\n');
    expect(issuesOf()).toEqual([expect.stringMatching(/^heatwatch\.yaml: mqtt\.port: .*number/)]);
  });

  it('an out-of-range value names the path', () => {
    write('heatwatch.yaml', 'ingest:\n  batchSize: 0\n');
    expect(issuesOf()).toEqual([expect.stringMatching(/^heatwatch\.yaml: ingest\.batchSize: .*>=\s*1/)]);
  });

  it('an unknown key (a typo) is refused', () => {
    write('heatwatch.yaml', 'mqtt:\n  prot: 1884\n');
    expect(issuesOf()).toEqual([expect.stringMatching(/^heatwatch\.yaml: mqtt: .*prot/)]);
  });

  it('a top level that is not a mapping is refused', () => {
    write('heatwatch.yaml', '- just\n- a list\n');
    expect(issuesOf()).toEqual(['heatwatch.yaml: (root): expected a mapping of keys at the top level']);
  });

  it('a missing network file is refused', () => {
    unlinkSync(join(dir, 'network.yaml'));
    expect(issuesOf()).toEqual([expect.stringMatching(/^network\.yaml: \(root\): file is missing/)]);
  });

  it('a building on an unknown substation is refused', () => {
    write(
      'network.yaml',
      `substations:
  - { id: s1, curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 } }
buildings:
  - { id: b1, substation: s9, floors: 5, unitsPerFloor: 4, sensors: [] }
`,
    );
    expect(issuesOf()).toEqual(["network.yaml: buildings[0].substation: unknown substation 's9'"]);
  });

  it('a sensor outside its building and a duplicate sensor are refused together', () => {
    write(
      'network.yaml',
      `substations:
  - { id: s1, curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 } }
buildings:
  - id: b1
    substation: s1
    floors: 5
    unitsPerFloor: 4
    sensors:
      - { floor: 6, column: 1 }
      - { floor: 2, column: 5 }
      - { floor: 2, column: 2 }
      - { floor: 2, column: 2 }
`,
    );
    expect(issuesOf()).toEqual([
      "network.yaml: buildings[0].sensors[0].floor: floor 6 is above the building's 5 floors",
      "network.yaml: buildings[0].sensors[1].column: column 5 is beyond the building's 4 units per floor",
      "network.yaml: buildings[0].sensors[3]: duplicate sensor id 'b1-2-2'",
    ]);
  });

  it('an impossible heating curve is refused', () => {
    write(
      'network.yaml',
      `substations:
  - { id: s1, curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 80, maxSupplyC: 75 } }
`,
    );
    expect(issuesOf()).toEqual(['network.yaml: substations[0].curve: minSupplyC must not exceed maxSupplyC']);
  });

  it('an id that cannot be an MQTT topic level is refused', () => {
    write(
      'network.yaml',
      `substations:
  - { id: "s/1", curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 } }
`,
    );
    expect(issuesOf()[0]).toMatch(/^network\.yaml: substations\[0\]\.id: ids are 1-64 letters/);
  });

  it('a bad environment value names the variable', () => {
    expect(issuesOf({ HEATWATCH_HTTP_PORT: 'eighty' })).toEqual([
      "environment HEATWATCH_HTTP_PORT: http.port: not a port number: 'eighty'",
    ]);
  });

  it('an external broker without a URL is refused', () => {
    write('heatwatch.yaml', 'mqtt:\n  mode: external\n');
    expect(issuesOf()).toEqual(['heatwatch.yaml: mqtt.url: mqtt.mode is external but no url is set']);
  });

  it('a PostgreSQL ops database without HEATWATCH_PG_URL is refused; with it, the URL is a secret', () => {
    write('heatwatch.yaml', 'ops:\n  kind: postgres\n');
    expect(issuesOf()).toEqual([
      'heatwatch.yaml: ops.kind: ops.kind is postgres but HEATWATCH_PG_URL is not set',
    ]);
    const url = 'postgres://heatwatch:pw@db:5432/heatwatch';
    expect(loadConfig(dir, { HEATWATCH_PG_URL: url }).secrets.pgUrl).toBe(url);
  });

  it('an outbox claim no longer than a delivery attempt is refused', () => {
    write('heatwatch.yaml', 'households:\n  outbox:\n    timeoutMs: 5000\n    claimMs: 5000\n');
    expect(issuesOf()[0]).toMatch(
      /^heatwatch\.yaml: households\.outbox\.claimMs: claimMs must be longer than timeoutMs/,
    );
  });

  it('reports the problems of several files at once', () => {
    write('heatwatch.yaml', 'logLevel: loud\n');
    write('rules.yaml', 'requiredTempC: "warm"\n');
    const issues = issuesOf();
    expect(issues.some((i) => i.startsWith('heatwatch.yaml: logLevel:'))).toBe(true);
    expect(issues.some((i) => i.startsWith('rules.yaml: requiredTempC:'))).toBe(true);
  });

  it('throws a ConfigError whose message lists every issue', () => {
    write('heatwatch.yaml', 'logLevel: loud\n');
    expect(() => loadConfig(dir, {})).toThrow(ConfigError);
    expect(() => loadConfig(dir, {})).toThrow(/heatwatch\.yaml: logLevel:/);
  });
});
