import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { RegistryIndex } from '../core/registry.ts';
import { type NetworkConfig, networkSchema, toRegistry } from './network-schema.ts';
import { type RulesConfig, rulesSchema } from './rules-schema.ts';
import { type ServiceConfig, serviceSchema } from './service-schema.ts';
import { type SimConfig, simSchema } from './sim-schema.ts';
import { type UsersConfig, usersSchema } from './users-schema.ts';

/** One problem in one file, reported as `file: path: message` (CONTRIBUTING.md convention 6). */
export interface ConfigIssue {
  file: string;
  path: string;
  message: string;
}

export const formatIssue = (i: ConfigIssue): string => `${i.file}: ${i.path || '(root)'}: ${i.message}`;

export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`configuration refused:\n  ${issues.map(formatIssue).join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Secrets come from the environment only, never from files in the repo. */
export interface Secrets {
  adminToken?: string;
  deviceKey?: string;
  mqttPassword?: string;
  influxToken?: string;
  /** Signs households webhook deliveries (HMAC-SHA256 over the body). */
  webhookSecret?: string;
  /** The operational database on PostgreSQL (`ops.kind: postgres`); may carry a password. */
  pgUrl?: string;
}

export interface HeatwatchConfig {
  dir: string;
  service: ServiceConfig;
  network: NetworkConfig;
  registry: RegistryIndex;
  rules: RulesConfig;
  sim: SimConfig;
  users: UsersConfig;
  secrets: Secrets;
  /** A short hash of every file's text: shown in /api/health, changes with every accepted edit. */
  version: string;
}

type Env = Record<string, string | undefined>;

interface FileSpec<S extends z.ZodType> {
  file: string;
  schema: S;
  /** A missing optional file is read as `{}` so its defaults apply. */
  required: boolean;
  override?: (raw: Record<string, unknown>, env: Env, issues: ConfigIssue[]) => void;
}

const FILES = {
  service: { file: 'heatwatch.yaml', schema: serviceSchema, required: false, override: serviceEnv },
  network: { file: 'network.yaml', schema: networkSchema, required: true },
  rules: { file: 'rules.yaml', schema: rulesSchema, required: false },
  sim: { file: 'sim.yaml', schema: simSchema, required: false },
  users: { file: 'users.yaml', schema: usersSchema, required: false },
} satisfies Record<string, FileSpec<z.ZodType>>;

/**
 * Reads and validates every config file of `dir`. All problems of all files are collected and
 * reported at once, so an engineer fixes an edit in one round.
 */
export function loadConfig(dir: string, env: Env = process.env): HeatwatchConfig {
  const issues: ConfigIssue[] = [];
  const hash = createHash('sha256');
  const parsed: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(FILES) as Array<[keyof typeof FILES, FileSpec<z.ZodType>]>) {
    const text = readText(dir, spec, issues);
    hash
      .update(spec.file)
      .update('\0')
      .update(text ?? '')
      .update('\0');
    if (text === undefined) continue;
    const raw = parseYaml(spec.file, text, issues);
    if (raw === undefined) continue;
    spec.override?.(raw, env, issues);
    const result = spec.schema.safeParse(raw);
    if (result.success) parsed[key] = result.data;
    else
      for (const zi of result.error.issues)
        issues.push({ file: spec.file, path: formatPath(zi.path), message: zi.message });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  const network = parsed.network as NetworkConfig;
  const service = parsed.service as ServiceConfig;
  if (service.mqtt.mode === 'external' && !service.mqtt.url)
    issues.push({
      file: FILES.service.file,
      path: 'mqtt.url',
      message: 'mqtt.mode is external but no url is set',
    });
  if (service.store.kind === 'influxdb' && !service.store.influxdb.url)
    issues.push({
      file: FILES.service.file,
      path: 'store.influxdb.url',
      message: 'store.kind is influxdb but no url is set (HEATWATCH_INFLUX_URL)',
    });
  if (service.ops.kind === 'postgres' && !env.HEATWATCH_PG_URL)
    issues.push({
      file: FILES.service.file,
      path: 'ops.kind',
      message: 'ops.kind is postgres but HEATWATCH_PG_URL is not set',
    });
  // A rules partition naming a substation the registry lacks would silently own nothing of it.
  service.partition.substations.forEach((id, i) => {
    if (!network.substations.some((s) => s.id === id))
      issues.push({
        file: FILES.service.file,
        path: `partition.substations[${i}]`,
        message: `unknown substation '${id}' (network.yaml lists ${network.substations.map((s) => s.id).join(', ')})`,
      });
  });
  issues.push(...leasePartitionIssues(service, network));
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    dir,
    service,
    network,
    registry: new RegistryIndex(toRegistry(network)),
    rules: parsed.rules as RulesConfig,
    sim: parsed.sim as SimConfig,
    users: parsed.users as UsersConfig,
    secrets: {
      adminToken: env.HEATWATCH_ADMIN_TOKEN || undefined,
      deviceKey: env.HEATWATCH_DEVICE_KEY || undefined,
      mqttPassword: env.HEATWATCH_MQTT_PASSWORD || service.mqtt.password || undefined,
      influxToken: env.HEATWATCH_INFLUX_TOKEN || service.store.influxdb.token || undefined,
      webhookSecret: env.HEATWATCH_WEBHOOK_SECRET || undefined,
      pgUrl: env.HEATWATCH_PG_URL || undefined,
    },
    version: hash.digest('hex').slice(0, 12),
  };
}

/** Like loadConfig, but returns the issues instead of throwing. */
export function tryLoadConfig(
  dir: string,
  env: Env = process.env,
): { ok: true; config: HeatwatchConfig } | { ok: false; issues: ConfigIssue[] } {
  try {
    return { ok: true, config: loadConfig(dir, env) };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, issues: err.issues };
    throw err;
  }
}

function readText(dir: string, spec: FileSpec<z.ZodType>, issues: ConfigIssue[]): string | undefined {
  const path = join(dir, spec.file);
  if (!existsSync(path)) {
    if (spec.required) {
      issues.push({ file: spec.file, path: '', message: `file is missing from ${dir}` });
      return undefined;
    }
    return '';
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    issues.push({ file: spec.file, path: '', message: `cannot be read: ${(err as Error).message}` });
    return undefined;
  }
}

export function parseYaml(
  file: string,
  text: string,
  issues: ConfigIssue[],
): Record<string, unknown> | undefined {
  // uniqueKeys: a key given twice is an editing mistake, not a silent override.
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false, lineCounter });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const pos = lineCounter.linePos(e.pos[0]);
      issues.push({
        file,
        path: `line ${pos.line} column ${pos.col}`,
        message: `YAML syntax: ${e.message.split('\n')[0]}`,
      });
    }
    return undefined;
  }
  let value: unknown;
  try {
    // maxAliasCount: an alias bomb (`&a [x…]`, `[*a, *a…]`, …) would expand to gigabytes; yaml throws
    // past the count, and that must be a refusal naming the file, not a crash (found by test/fuzz).
    value = doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch (err) {
    issues.push({ file, path: '', message: `YAML cannot be expanded: ${(err as Error).message}` });
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ file, path: '', message: 'expected a mapping of keys at the top level' });
    return undefined;
  }
  return value as Record<string, unknown>;
}

export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );

function setIn(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    const next = cur[key];
    if (typeof next !== 'object' || next === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

/** README "Configuration": each variable overrides its key in heatwatch.yaml. */
function serviceEnv(raw: Record<string, unknown>, env: Env, issues: ConfigIssue[]): void {
  const port = (name: string, path: string[]) => {
    const v = env[name];
    if (v === undefined || v === '') return;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      issues.push({
        file: `environment ${name}`,
        path: path.join('.'),
        message: `not a port number: '${v}'`,
      });
      return;
    }
    setIn(raw, path, n);
  };
  if (env.HEATWATCH_DATA_DIR) raw.dataDir = env.HEATWATCH_DATA_DIR;
  port('HEATWATCH_HTTP_PORT', ['http', 'port']);
  port('HEATWATCH_MQTT_PORT', ['mqtt', 'port']);
  if (env.HEATWATCH_MQTT_URL) {
    setIn(raw, ['mqtt', 'mode'], 'external');
    setIn(raw, ['mqtt', 'url'], env.HEATWATCH_MQTT_URL);
  }
  if (env.HEATWATCH_INFLUX_URL) {
    setIn(raw, ['store', 'kind'], 'influxdb');
    setIn(raw, ['store', 'influxdb', 'url'], env.HEATWATCH_INFLUX_URL);
  }
  if (env.HEATWATCH_INFLUX_ORG) setIn(raw, ['store', 'influxdb', 'org'], env.HEATWATCH_INFLUX_ORG);
  if (env.HEATWATCH_INFLUX_BUCKET) setIn(raw, ['store', 'influxdb', 'bucket'], env.HEATWATCH_INFLUX_BUCKET);
  if (env.HEATWATCH_INSTANCE_ID) setIn(raw, ['partition', 'leases', 'instanceId'], env.HEATWATCH_INSTANCE_ID);
  if (env.HEATWATCH_ROLE) raw.role = env.HEATWATCH_ROLE;
  if (env.HEATWATCH_MQTT_CLIENT_ID) setIn(raw, ['mqtt', 'clientId'], env.HEATWATCH_MQTT_CLIENT_ID);
  if (env.HEATWATCH_MQTT_SHARED_GROUP) setIn(raw, ['mqtt', 'sharedGroup'], env.HEATWATCH_MQTT_SHARED_GROUP);
  // Like the broker and reading-store URLs: naming the server chooses it.
  if (env.HEATWATCH_PG_URL) setIn(raw, ['ops', 'kind'], 'postgres');
  if (env.HEATWATCH_SIM) {
    const v = env.HEATWATCH_SIM.toLowerCase();
    if (v !== 'on' && v !== 'off')
      issues.push({
        file: 'environment HEATWATCH_SIM',
        path: 'sim.enabled',
        message: `expected on or off, got '${v}'`,
      });
    else setIn(raw, ['sim', 'enabled'], v === 'on');
  }
  if (env.HEATWATCH_SPEED) {
    const n = Number(env.HEATWATCH_SPEED);
    if (!(n > 0))
      issues.push({
        file: 'environment HEATWATCH_SPEED',
        path: 'clock.speed',
        message: `not a positive number: '${env.HEATWATCH_SPEED}'`,
      });
    else setIn(raw, ['clock', 'speed'], n);
  }
}

/**
 * Keys that only take effect on restart; a reload that changes them says so instead of half-applying.
 * `partition`: moving a substation between rules instances moves its open tickets and re-checks too,
 * which is an operator's step (docs/deploy.md), not a reload.
 */
export const RESTART_ONLY_KEYS = [
  'role',
  'dataDir',
  'mqtt',
  'http',
  'store',
  'spool',
  'clock',
  'sim',
  'partition',
  // The operational database is opened once, at start.
  'ops',
  // Subscriptions are made once, when the MQTT client connects.
  'ingest.sources',
  'ingest.brokerConnectTimeoutMs',
  'weather',
  // The households module, its webhook deliverer and its crons are built once, at start.
  'households.enabled',
  'households.outbox.webhookUrl',
  'households.outbox.pollIntervalMs',
  'households.digest.enabled',
  'households.digest.cron',
  'households.bulletin.enabled',
  'households.bulletin.cron',
] as const;

/**
 * Lease partitions (partition.leases.partitions) must name known substations, each in one partition
 * only: a substation in two partitions would have two writers.
 */
function leasePartitionIssues(service: ServiceConfig, network: NetworkConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const known = new Set(network.substations.map((s) => s.id));
  const seen = new Map<string, string>();
  for (const [name, ids] of Object.entries(service.partition.leases.partitions))
    ids.forEach((id, i) => {
      const path = `partition.leases.partitions.${name}[${i}]`;
      if (!known.has(id))
        issues.push({ file: FILES.service.file, path, message: `unknown substation '${id}'` });
      const other = seen.get(id);
      if (other !== undefined && other !== name)
        issues.push({
          file: FILES.service.file,
          path,
          message: `substation '${id}' is also in partition '${other}'`,
        });
      seen.set(id, name);
    });
  return issues;
}
