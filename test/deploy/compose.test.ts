import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type HeatwatchConfig, loadConfig } from '../../src/config/loader.ts';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { classTag, ROOM_MEASUREMENT, SUBSTATION_MEASUREMENT } from '../../src/storage/line-protocol.ts';
import { hasCommand, serverAvailable } from '../support/servers.ts';

/**
 * docker-compose.yml against heatwatch's own config schema and loader: the compose file is rendered by
 * `docker-compose config` (Debian's docker-compose validates and interpolates without an engine),
 * then every port, variable, credential and mounted file it names is checked against what heatwatch,
 * Mosquitto, InfluxDB and Grafana will actually read.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const COMPOSE = join(ROOT, 'docker-compose.yml');

/** Every `${VAR:?…}` of the compose file, with a value no file of the repository contains. */
const SECRETS: Record<string, string> = {
  HEATWATCH_ADMIN_TOKEN: 'tok-admin-7f3a',
  HEATWATCH_DEVICE_KEY: 'key-device-91c2',
  HEATWATCH_MQTT_PASSWORD: 'pw-mqtt-55d0',
  INFLUX_ADMIN_PASSWORD: 'pw-influx-0b4e',
  INFLUX_TOKEN: 'tok-influx-c81d',
  GRAFANA_ADMIN_PASSWORD: 'pw-grafana-3e6f',
  GRAFANA_INFLUX_TOKEN: 'tok-grafana-ro-a9b7',
};

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: Array<{ published: number | string; target: number }>;
  volumes?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
  user?: string;
}

interface Mount {
  source: string;
  target: string;
  readOnly: boolean;
  named: boolean;
}

/** The city profile's database password: optional for a one-server site, so not in SECRETS. */
const PG_PASSWORD = 'pw-pg-6d1f';

/** Only the variables the test chooses: no HEATWATCH_* or .env leaking in from the developer's shell. */
function composeEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...SECRETS,
    POSTGRES_PASSWORD: PG_PASSWORD,
  };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

const runCompose = (args: string[], env: NodeJS.ProcessEnv) =>
  spawnSync('docker-compose', ['-f', COMPOSE, '--project-directory', ROOT, ...args], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 20_000,
  });

function mounts(svc: Service): Mount[] {
  return (svc.volumes ?? []).map((v) => {
    const [source = '', target = '', mode] = v.split(':');
    return { source, target, readOnly: mode === 'ro', named: !source.startsWith('/') };
  });
}

/** Directive → values of a Mosquitto config file (comments and blank lines dropped). */
function mosquittoConf(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [key = '', ...rest] = line.split(/\s+/);
    out.set(key, [...(out.get(key) ?? []), rest.join(' ')]);
  }
  return out;
}

/** Grafana's provisioning interpolation: `$VAR` / `${VAR}` from the container's environment. */
const grafanaInterpolate = (text: string, env: Record<string, string>): string =>
  text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => env[name] ?? '');

/** Every leaf key path of heatwatch.yaml's schema (zod 4 internals: object shape, wrapped types). */
function schemaLeaves(schema: unknown, path: string[] = []): string[] {
  const def = (schema as { _zod: { def: { type: string; shape?: object; innerType?: unknown } } })._zod.def;
  if (def.type === 'object')
    return Object.entries(def.shape ?? {}).flatMap(([k, v]) => schemaLeaves(v, [...path, k]));
  if (['default', 'prefault', 'optional', 'nullable'].includes(def.type))
    return schemaLeaves(def.innerType, path);
  return [path.join('.')];
}

/** The heatwatch instances of the city profile. */
const CITY = ['ingest-1', 'ingest-2', 'rules-1', 'rules-2', 'api-1', 'api-2'];

const hasDockerCompose = serverAvailable(
  'docker-compose',
  hasCommand('docker-compose'),
  'install Debian/Ubuntu package docker-compose (validates compose files without an engine)',
);

describe.runIf(hasDockerCompose)('docker-compose.yml agrees with heatwatch', () => {
  let services: Record<string, Service>;
  let volumes: Record<string, unknown>;
  let hw: Service;
  let hwEnv: Record<string, string>;
  let config: HeatwatchConfig;
  let mosq: Map<string, string[]>;
  let tmp: string;

  beforeAll(() => {
    const r = runCompose(['config'], composeEnv());
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = parse(r.stdout) as { services: Record<string, Service>; volumes: Record<string, unknown> };
    services = doc.services;
    volumes = doc.volumes;
    hw = services.heatwatch!;
    hwEnv = hw.environment ?? {};

    tmp = mkdtempSync(join(tmpdir(), 'hw-compose-'));
    config = loadConfig(configDirOf('heatwatch', hw), hwEnv);

    const conf = mounts(services.mosquitto!).find((m) => m.target === '/mosquitto/config/mosquitto.conf');
    expect(conf, 'mosquitto mounts a mosquitto.conf').toBeDefined();
    mosq = mosquittoConf(readFileSync(conf!.source, 'utf8'));
  });

  /**
   * The config directory exactly as a container of the heatwatch image sees it: every bind mount
   * below its HEATWATCH_CONFIG, copied to the same relative place in a temp directory.
   */
  function configDirOf(name: string, svc: Service): string {
    const configDir = svc.environment?.HEATWATCH_CONFIG;
    expect(configDir, `${name} sets HEATWATCH_CONFIG`).toBeDefined();
    const out = join(tmp, name);
    for (const m of mounts(svc).filter((m) => m.target.startsWith(`${configDir}/`) && !m.named)) {
      const dest = join(out, posix.relative(configDir!, m.target));
      mkdirSync(join(dest, '..'), { recursive: true });
      copyFileSync(m.source, dest);
    }
    return out;
  }

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('has the production services, with the simulator only in the sim profile', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['grafana', 'heatwatch', 'influxdb', 'mosquitto', 'mosquitto-files', 'sim', 'postgres', ...CITY].sort(),
    );
    for (const name of ['postgres', ...CITY]) expect(services[name]!.profiles, name).toEqual(['city']);
    expect(services.mosquitto!.image).toMatch(/^eclipse-mosquitto:2/);
    expect(services.influxdb!.image).toMatch(/^influxdb:2\.7/);
    expect(services.sim!.profiles).toEqual(['sim']);
    for (const name of ['heatwatch', 'mosquitto', 'influxdb', 'grafana', 'mosquitto-files'])
      expect(services[name]!.profiles, name).toBeUndefined();
    expect(hwEnv.HEATWATCH_SIM).toBe('off');
    expect(config.service.sim.enabled).toBe(false);
  });

  it('loads the mounted production config through loadConfig with the container environment', () => {
    expect(config.service.mqtt.mode).toBe('external');
    expect(config.service.store.kind).toBe('influxdb');
    expect(config.service.dataDir).toBe(hwEnv.HEATWATCH_DATA_DIR);
    expect(config.registry.sensors.size).toBeGreaterThan(0);
    // Reachable from outside the container, on the port the compose file publishes and probes.
    expect(config.service.http.host).toBe('0.0.0.0');
    expect(hw.ports?.map((p) => p.target)).toContain(config.service.http.port);
  });

  it('points heatwatch at the Mosquitto service, on the port its mosquitto.conf listens on', () => {
    const url = new URL(config.service.mqtt.url!);
    expect(url.hostname).toBe('mosquitto');
    expect(services[url.hostname]).toBeDefined();
    const listeners = (mosq.get('listener') ?? []).map((v) => Number(v.split(' ')[0]));
    expect(listeners).toContain(Number(url.port || 1883));
    expect(services.mosquitto!.ports?.map((p) => p.target)).toContain(Number(url.port || 1883));
    expect(config.secrets.mqttPassword).toBe(SECRETS.HEATWATCH_MQTT_PASSWORD);
  });

  it('runs Mosquitto authenticated, persistent and with queues sized for heatwatch', () => {
    expect(mosq.get('allow_anonymous')).toEqual(['false']);
    expect(mosq.get('persistence')).toEqual(['true']);
    // docs/architecture.md: Mosquitto's defaults (1000 queued, 20 in flight) lost QoS 1 messages.
    expect(Number(mosq.get('max_queued_messages')?.[0])).toBeGreaterThan(1000);
    expect(Number(mosq.get('max_inflight_messages')?.[0])).toBeGreaterThanOrEqual(
      config.service.mqtt.receiveMaximum,
    );
    const m = mounts(services.mosquitto!);
    const dataDir = mosq.get('persistence_location')![0]!.replace(/\/$/, '');
    expect(m.find((x) => x.target === dataDir)?.named, 'persistence on a named volume').toBe(true);

    // password_file and acl_file lie in the volume that the mosquitto-files service fills with
    // heatwatch's CLI, at the directory that CLI is told to write to.
    const gen = services['mosquitto-files']!;
    expect(gen.command?.slice(0, 2)).toEqual(['src/cli.ts', 'mosquitto-files']);
    const outDir = gen.command![gen.command!.indexOf('--out') + 1]!;
    const genVolume = mounts(gen).find((x) => x.target === outDir);
    expect(genVolume?.named).toBe(true);
    for (const key of ['password_file', 'acl_file']) {
      const file = mosq.get(key)![0]!;
      const holder = m.find((x) => file.startsWith(`${x.target}/`));
      expect(holder?.source, `${key} ${file}`).toBe(genVolume!.source);
    }
    expect(services.mosquitto!.depends_on?.['mosquitto-files']?.condition).toBe(
      'service_completed_successfully',
    );
    // Written as the broker's uid into a directory the image gives that uid: readable by the broker
    // with mode 0600, and writable again on the next run.
    expect(gen.user).toBe('1883:1883');
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain(`chown ${gen.user} ${outDir}`);
    expect(gen.environment?.HEATWATCH_DEVICE_KEY).toBe(config.secrets.deviceKey);
    expect(gen.environment?.HEATWATCH_MQTT_PASSWORD).toBe(config.secrets.mqttPassword);
  });

  it('points heatwatch at the InfluxDB service, with the org, bucket and token setup creates', () => {
    const influx = services.influxdb!;
    const ie = influx.environment ?? {};
    const { influxdb } = config.service.store;
    const url = new URL(influxdb.url!);
    expect(url.hostname).toBe('influxdb');
    expect(influx.ports?.map((p) => p.target)).toContain(Number(url.port));
    expect(ie.DOCKER_INFLUXDB_INIT_MODE).toBe('setup');
    expect(influxdb.org).toBe(ie.DOCKER_INFLUXDB_INIT_ORG);
    expect(influxdb.bucket).toBe(ie.DOCKER_INFLUXDB_INIT_BUCKET);
    expect(config.secrets.influxToken).toBe(ie.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    expect(ie.DOCKER_INFLUXDB_INIT_RETENTION).toMatch(/^\d+[dhw]$/);
    // The DBRP init script is mounted where the image runs init scripts, and is executable.
    const init = mounts(influx).find((x) => x.target === '/docker-entrypoint-initdb.d');
    const script = join(init!.source, '10-dbrp.sh');
    expect(statSync(script).mode & 0o111).not.toBe(0);
    expect(readFileSync(script, 'utf8')).toContain('influx v1 dbrp create');
  });

  it('provisions Grafana with an InfluxQL data source whose database is the bucket', () => {
    const g = services.grafana!;
    const ge = g.environment ?? {};
    const prov = mounts(g).find((x) => x.target === '/etc/grafana/provisioning')!;
    const dsText = readFileSync(join(prov.source, 'datasources/heatwatch.yaml'), 'utf8');
    const ds = (parse(grafanaInterpolate(dsText, ge)) as { datasources: Array<Record<string, never>> })
      .datasources[0] as unknown as {
      uid: string;
      type: string;
      url: string;
      jsonData: { dbName: string; httpHeaderName1: string };
      secureJsonData: { httpHeaderValue1: string };
    };
    expect(ds.type).toBe('influxdb');
    expect(ds.jsonData.dbName).toBe(config.service.store.influxdb.bucket);
    expect(ds.jsonData.dbName).toBe(services.influxdb!.environment?.DOCKER_INFLUXDB_INIT_BUCKET);
    expect(new URL(ds.url).hostname).toBe('influxdb');
    expect(new URL(ds.url).port).toBe(new URL(config.service.store.influxdb.url!).port);
    expect(ds.jsonData.httpHeaderName1).toBe('Authorization');
    expect(ds.secureJsonData.httpHeaderValue1).toBe(`Token ${SECRETS.GRAFANA_INFLUX_TOKEN}`);

    // The dashboard provider reads the directory the compose file mounts the dashboards into, and the
    // dashboard queries heatwatch's measurements and tags on that data source.
    const provider = parse(readFileSync(join(prov.source, 'dashboards/heatwatch.yaml'), 'utf8')) as {
      providers: Array<{ options: { path: string } }>;
    };
    const dashMount = mounts(g).find((x) => x.target === provider.providers[0]!.options.path);
    expect(dashMount).toBeDefined();
    const dash = readFileSync(join(dashMount!.source, 'room-temperatures.json'), 'utf8');
    const parsed = JSON.parse(dash) as { panels: Array<{ targets: Array<{ datasource: { uid: string } }> }> };
    for (const p of parsed.panels) for (const t of p.targets) expect(t.datasource.uid).toBe(ds.uid);
    expect(dash).toContain(`FROM \\"${ROOM_MEASUREMENT}\\"`);
    expect(dash).toContain(`FROM \\"${SUBSTATION_MEASUREMENT}\\"`);
    for (const c of ['top', 'ground', 'gable', 'middle']) expect(dash).toContain(classTag(c));
  });

  it('gives every container of the heatwatch image a config its loader accepts, and an entry point that exists', () => {
    const ours = Object.entries(services).filter(([, svc]) => svc.image?.startsWith('heatwatch:'));
    expect(ours.map(([n]) => n).sort()).toEqual(['heatwatch', 'mosquitto-files', 'sim', ...CITY].sort());
    for (const [name, svc] of ours) {
      const env = svc.environment ?? {};
      expect(() => loadConfig(configDirOf(name, svc), env), name).not.toThrow();
      // ENTRYPOINT is `node --import tsx`; the command's first word is the TypeScript file it runs.
      const entry = svc.command?.[0] ?? 'src/main.ts';
      expect(existsSync(join(ROOT, entry)), `${name}: ${entry}`).toBe(true);
    }
  });

  it('runs mosquitto-files as the compose file does and writes the files mosquitto.conf reads', () => {
    const gen = services['mosquitto-files']!;
    const args = [...gen.command!];
    const out = join(tmp, 'mosquitto-auth');
    args[args.indexOf('--out') + 1] = out;
    const env = { ...gen.environment, HEATWATCH_CONFIG: configDirOf('mosquitto-files-run', gen) };
    const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const key of ['password_file', 'acl_file']) {
      const file = posix.basename(mosq.get(key)![0]!);
      expect(existsSync(join(out, file)), `${key} ${file}`).toBe(true);
    }
    const users = readFileSync(join(out, posix.basename(mosq.get('password_file')![0]!)), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(':')[0]);
    expect(users).toContain(config.service.mqtt.username);
    expect(users.length).toBeGreaterThanOrEqual(config.registry.sensors.size);
  });

  it('keeps every piece of state on a named volume', () => {
    const state: Array<[string, string]> = [
      ['heatwatch', hwEnv.HEATWATCH_DATA_DIR!],
      ['mosquitto', '/mosquitto/data'],
      ['mosquitto', '/mosquitto/auth'],
      ['influxdb', '/var/lib/influxdb2'],
      ['influxdb', '/etc/influxdb2'],
      ['grafana', '/var/lib/grafana'],
    ];
    for (const [svc, path] of state) {
      const m = mounts(services[svc]!).find((x) => x.target === path);
      expect(m?.named, `${svc}:${path}`).toBe(true);
      expect(Object.keys(volumes)).toContain(m!.source);
    }
  });

  it('takes every secret from the environment and refuses to render without it', () => {
    // The file's own comments show the pattern; only the YAML itself counts.
    const text = readFileSync(COMPOSE, 'utf8').replace(/^\s*#.*$/gm, '');
    const required = [...text.matchAll(/\$\{([A-Z0-9_]+):\?/g)].map((m) => m[1]!);
    expect(new Set(required)).toEqual(new Set(Object.keys(SECRETS)));
    // .env.example names every variable the compose file reads, and holds no value for a secret.
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    for (const name of new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!))) {
      expect(example, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
      if (name in SECRETS) expect(example).toMatch(new RegExp(`^${name}=$`, 'm'));
    }
    // Each secret's `:?` message names it; one is rendered without its value to see the refusal (each
    // docker-compose run costs seconds, and the pattern above already covers the others).
    for (const name of Object.keys(SECRETS)) expect(text).toContain(`\${${name}:?set ${name} `);
    const r = runCompose(['config', '-q'], composeEnv({ INFLUX_TOKEN: undefined }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('set INFLUX_TOKEN');
  });

  it('builds a non-root image with a health check on /api/health and volumes at the configured paths', () => {
    const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const stages = [...df.matchAll(/^FROM\s+(\S+)\s+AS\s+(\S+)/gm)].map((m) => m[2]);
    expect(stages).toEqual(['build', 'runtime']);
    expect(df).toMatch(/^ARG NODE_IMAGE=node:\d+-slim$/m);
    expect(df).toMatch(/^USER heatwatch$/m);
    expect(df).toMatch(/^HEALTHCHECK [\s\S]*\/api\/health/m);
    expect(df).toContain(`HEATWATCH_DATA_DIR=${hwEnv.HEATWATCH_DATA_DIR}`);
    expect(df).toContain(`HEATWATCH_CONFIG=${hwEnv.HEATWATCH_CONFIG}`);
    expect(df).toContain(`VOLUME ["${hwEnv.HEATWATCH_DATA_DIR}", "${hwEnv.HEATWATCH_CONFIG}"]`);
    expect(df).toMatch(new RegExp(`^EXPOSE ${config.service.http.port}$`, 'm'));
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', 'data', '.env', '.git']) expect(ignore).toContain(p);
  });

  it('builds on the newest Node.js LTS line that `engines` supports, the one CI also tests on', () => {
    const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const imageMajor = Number(df.match(/^ARG NODE_IMAGE=node:(\d+)-slim$/m)?.[1]);
    const engines = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node;
    // `^20.19.0 || ^22.12.0 || ^24.0.0`: one caret range per supported major.
    const majors = engines.split('||').map((r) => Number(r.trim().match(/^\^(\d+)\.\d+\.\d+$/)?.[1]));
    expect(
      majors.every((m) => Number.isInteger(m)),
      engines,
    ).toBe(true);
    expect(majors).toContain(imageMajor);
    expect(imageMajor).toBe(Math.max(...majors));
    // Even majors are the LTS lines; an odd one would leave support within months.
    expect(imageMajor % 2).toBe(0);
    const ciMajor = Number(
      readFileSync(join(ROOT, '.ci/run'), 'utf8').match(/^lts_node=(\d+)\.\d+\.\d+$/m)?.[1],
    );
    expect(ciMajor).toBe(imageMajor);
  });

  it('comments every key of heatwatch.yaml in config/production.example.yaml and holds no secret', () => {
    const text = readFileSync(join(ROOT, 'config/production.example.yaml'), 'utf8');
    const present = new Set<string>();
    const walk = (o: unknown, path: string[]) => {
      if (o && typeof o === 'object' && !Array.isArray(o))
        for (const [k, v] of Object.entries(o)) walk(v, [...path, k]);
      else present.add(path.join('.'));
    };
    walk(parse(text), []);
    const secretKeys = new Set(['mqtt.password', 'store.influxdb.token']);
    for (const key of schemaLeaves(serviceSchema)) {
      const leaf = key.split('.').at(-1)!;
      // A key is either set, or shown commented out (optional ones such as urls and TLS files).
      const shown = present.has(key) || new RegExp(`^\\s*#\\s*${leaf}:`, 'm').test(text);
      expect(shown, `${key} is missing from production.example.yaml`).toBe(true);
      if (secretKeys.has(key)) expect(present.has(key), `${key} must not be set in a file`).toBe(false);
    }
    for (const v of Object.values(SECRETS)) expect(text).not.toContain(v);
  });
  it('runs a city in the city profile: PostgreSQL on a named volume, two instances of each role, each with its own names and state', () => {
    const pgSvc = services.postgres!;
    expect(pgSvc.image).toMatch(/^postgres:15/);
    expect(mounts(pgSvc).find((m) => m.target === '/var/lib/postgresql/data')?.named).toBe(true);
    const pe = pgSvc.environment ?? {};
    const city = CITY.map((name) => {
      const svc = services[name]!;
      const c = loadConfig(configDirOf(name, svc), svc.environment ?? {});
      return { name, svc, c };
    });
    for (const { name, svc, c } of city) {
      expect(c.service.role, name).toBe(name.split('-')[0]);
      expect(c.service.ops.kind, name).toBe('postgres');
      const url = new URL(c.secrets.pgUrl!);
      expect(url.hostname, name).toBe('postgres');
      expect(Number(url.port), name).toBe(5432);
      expect(decodeURIComponent(url.username)).toBe(pe.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(PG_PASSWORD);
      expect(pe.POSTGRES_PASSWORD).toBe(PG_PASSWORD);
      expect(url.pathname).toBe(`/${pe.POSTGRES_DB}`);
      expect(svc.depends_on?.postgres?.condition, name).toBe('service_healthy');
      // Its own journal and ops files: a named volume at the data directory, shared with no one.
      const data = mounts(svc).find((m) => m.target === c.service.dataDir);
      expect(data?.named, name).toBe(true);
      expect(Object.keys(volumes)).toContain(data!.source);
      expect(c.service.mqtt.url).toBe(config.service.mqtt.url);
    }
    const all = city.map((x) => x.c.service);
    // Every instance its own broker session; only the ingestion instances share the subscription.
    expect(new Set(all.map((s) => s.mqtt.clientId)).size).toBe(CITY.length);
    expect(new Set(city.map((x) => mounts(x.svc).find((m) => m.target === '/data')!.source)).size).toBe(
      CITY.length,
    );
    for (const { name, c } of city)
      expect(c.service.mqtt.sharedGroup, name).toBe(name.startsWith('ingest') ? 'ingest' : undefined);
    // The rules instances compete for the same leases under different names.
    const rules = city.filter((x) => x.name.startsWith('rules'));
    expect(new Set(rules.map((x) => x.c.service.partition.leases.instanceId)).size).toBe(2);
    expect(rules[0]!.c.service.partition.leases).toEqual({
      ...rules[1]!.c.service.partition.leases,
      instanceId: rules[0]!.c.service.partition.leases.instanceId,
    });
    // The API instances are published on ports of their own, to the port heatwatch listens on.
    const apiPorts = city
      .filter((x) => x.name.startsWith('api'))
      .map((x) => {
        expect(x.svc.ports?.map((p) => p.target)).toEqual([x.c.service.http.port]);
        return String(x.svc.ports![0]!.published);
      });
    expect(new Set(apiPorts).size).toBe(2);
    expect(apiPorts).not.toContain(String(hw.ports![0]!.published));
  });
});
