import { createHmac, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import type { Secrets } from '../config/loader.ts';
import type { Logger } from '../core/log.ts';
import type { RegistryIndex } from '../core/registry.ts';
import { TopicAcl } from './acl.ts';
import type { BrokerAuth, Principal } from './broker.ts';

type DeviceKind = 'sensor' | 'substation' | 'weather';

/** One identity that may log in to the broker: a registry entry, with its own hash or not. */
export interface DeviceIdentity {
  kind: DeviceKind;
  id: string;
  passwordHash?: string;
}

/**
 * docs/architecture.md "Device credentials": the default password of a device is derived from the group key,
 * `hex(HMAC-SHA256(deviceKey, deviceId))`, so the registry holds no per-device secret. The key is
 * used as its UTF-8 bytes. No slow hash is needed: the key never leaves the server, and a derived
 * password has 256 bits of entropy, out of reach of guessing.
 */
export function deriveDevicePassword(deviceKey: string, deviceId: string): string {
  return createHmac('sha256', deviceKey).update(deviceId).digest('hex');
}

/** scrypt parameters of `scrypt$N$r$p$salt$hash` (salt and hash in base64). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** ~50 ms and 16 MiB per check on this kind of machine (RFC 7914 §2's interactive-login range). */
export const DEFAULT_SCRYPT: ScryptParams = { N: 16_384, r: 8, p: 1 };

// Hostile or mistyped parameters are clamped by refusal: a hash asking for N = 2^30 would otherwise
// make every login allocate gigabytes.
const MAX_N = 1 << 20;
const MAX_R = 32;
const MAX_P = 16;
const MIN_SALT_BYTES = 8;
const HASH_BYTES = { min: 16, max: 64 };

interface ParsedScrypt extends ScryptParams {
  salt: Buffer;
  hash: Buffer;
}

const B64 = /^[A-Za-z0-9+/]+={0,2}$/;

export function parseScryptHash(encoded: string): ParsedScrypt | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const N = Number(n);
  const R = Number(r);
  const P = Number(p);
  if (!Number.isInteger(N) || N < 2 || N > MAX_N || (N & (N - 1)) !== 0) return undefined;
  if (!Number.isInteger(R) || R < 1 || R > MAX_R || !Number.isInteger(P) || P < 1 || P > MAX_P)
    return undefined;
  if (!B64.test(salt) || !B64.test(hash)) return undefined;
  const saltBuf = Buffer.from(salt, 'base64');
  const hashBuf = Buffer.from(hash, 'base64');
  if (saltBuf.length < MIN_SALT_BYTES || hashBuf.length < HASH_BYTES.min || hashBuf.length > HASH_BYTES.max)
    return undefined;
  return { N, r: R, p: P, salt: saltBuf, hash: hashBuf };
}

function scrypt(
  password: Buffer | string,
  salt: Buffer,
  keyLen: number,
  params: ScryptParams,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(
      password,
      salt,
      keyLen,
      { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r * params.p + 1024 * 1024 },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/** The `passwordHash` to put in network.yaml for a device with its own password. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32, params);
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function verifyScryptHash(password: Buffer | string, encoded: string): Promise<boolean> {
  const parsed = parseScryptHash(encoded);
  if (!parsed) return false;
  const key = await scrypt(password, parsed.salt, parsed.hash.length, parsed);
  return timingSafeEqual(key, parsed.hash);
}

/** The broker's secrets after defaults: what src/app/broker.ts hands to the broker, ingestion and simulator. */
export interface TrustSecrets {
  /** Absent only when every device carries its own hash and no key was configured. */
  deviceKey: string | undefined;
  servicePassword: string;
  /** True when heatwatch made the key up for this run: only in-process devices can log in. */
  ephemeralDeviceKey: boolean;
  ephemeralServicePassword: boolean;
}

/**
 * Decides the secrets of this run. Nothing configured (the demo on a fresh clone) must still not
 * mean an open broker: heatwatch generates a random device key and service password for this run
 * only and says so loudly. The in-process simulator and ingestion get them from src/app/broker.ts; nothing
 * outside the process can log in, which is the safe default for a port that may be reachable.
 */
export function resolveTrustSecrets(secrets: Secrets, registry: RegistryIndex, log: Logger): TrustSecrets {
  const unhashed = [...registry.sensors.values()].filter((s) => !s.sensor.passwordHash).length;
  // Substations and the weather station have no hash field: they always use derived passwords.
  const needsKey = unhashed > 0 || registry.substations.size > 0;
  let deviceKey = secrets.deviceKey;
  let ephemeralDeviceKey = false;
  if (!deviceKey && needsKey) {
    deviceKey = randomBytes(32).toString('hex');
    ephemeralDeviceKey = true;
    log.warn(
      { devicesWithoutHash: unhashed },
      'HEATWATCH_DEVICE_KEY is not set: device passwords are derived from a random key made for this ' +
        'run only. The built-in simulator knows it; real devices and an external simulator cannot log ' +
        'in until HEATWATCH_DEVICE_KEY is set (the same value on both sides).',
    );
  }
  let servicePassword = secrets.mqttPassword;
  let ephemeralServicePassword = false;
  if (!servicePassword) {
    servicePassword = randomBytes(24).toString('hex');
    ephemeralServicePassword = true;
    log.warn(
      'HEATWATCH_MQTT_PASSWORD is not set: the service account got a random password for this run; ' +
        'only this process can read the embedded broker.',
    );
  }
  return { deviceKey, servicePassword, ephemeralDeviceKey, ephemeralServicePassword };
}

/** Every identity of a registry; an id claimed by two kinds is left out (ambiguous) and reported. */
export function deviceIdentities(
  registry: RegistryIndex,
  weatherStationIds: readonly string[],
): { identities: Map<string, DeviceIdentity>; ambiguous: string[] } {
  const identities = new Map<string, DeviceIdentity>();
  const ambiguous = new Set<string>();
  const add = (identity: DeviceIdentity) => {
    if (identities.has(identity.id) && identities.get(identity.id)?.kind !== identity.kind)
      ambiguous.add(identity.id);
    identities.set(identity.id, identity);
  };
  for (const info of registry.sensors.values())
    add({
      kind: 'sensor',
      id: info.sensor.id,
      ...(info.sensor.passwordHash ? { passwordHash: info.sensor.passwordHash } : {}),
    });
  for (const s of registry.substations.values()) add({ kind: 'substation', id: s.id });
  for (const w of weatherStationIds) add({ kind: 'weather', id: w });
  for (const id of ambiguous) identities.delete(id);
  return { identities, ambiguous: [...ambiguous] };
}

export interface DeviceAuthOptions {
  registry: RegistryIndex;
  weatherStationIds: readonly string[];
  topicRoot: string;
  deviceKey: string | undefined;
  service: { username: string; password: string };
  /** At most this many scrypt checks at once (each takes ~16 MiB and a libuv thread). */
  passwordCheckConcurrency: number;
  /** Logins waiting for a scrypt slot beyond this are refused instead of queued without end. */
  passwordCheckQueue: number;
  log: Logger;
}

/**
 * The embedded broker's trust layer: user name = device id, password = the registry entry's own
 * scrypt hash or the derived password; the service account from config; topic rights from TopicAcl.
 */
export class DeviceAuth implements BrokerAuth {
  private identities = new Map<string, DeviceIdentity>();
  private readonly acl: TopicAcl;
  /** Per-process key for the success cache: lets us compare a presented password in constant time
   * without keeping it, and makes the cache useless to anyone reading memory of another process. */
  private readonly cacheKey = randomBytes(32);
  /** Device id → the hash it was verified against and a MAC of the password that matched it. */
  private readonly verified = new Map<string, { encoded: string; mac: Buffer }>();
  private readonly serviceMac: Buffer;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly opts: DeviceAuthOptions) {
    this.acl = new TopicAcl(opts.topicRoot);
    this.serviceMac = this.mac(opts.service.password);
    this.setRegistry(opts.registry, opts.weatherStationIds);
  }

  /** On a config reload: new devices can log in, removed ones cannot; cached checks of changed hashes lapse. */
  setRegistry(registry: RegistryIndex, weatherStationIds: readonly string[]): void {
    const { identities, ambiguous } = deviceIdentities(registry, weatherStationIds);
    if (ambiguous.length > 0)
      this.opts.log.error(
        { ids: ambiguous.slice(0, 20), count: ambiguous.length },
        'ids used by more than one kind of device cannot log in to the broker; rename them in network.yaml',
      );
    if (identities.delete(this.opts.service.username))
      this.opts.log.error(
        { id: this.opts.service.username },
        'a device id equals the service account name (mqtt.username); that device cannot log in',
      );
    let badHashes = 0;
    for (const identity of identities.values())
      if (identity.passwordHash && !parseScryptHash(identity.passwordHash)) badHashes++;
    if (badHashes > 0)
      this.opts.log.error(
        { count: badHashes },
        'sensors whose passwordHash is not a valid scrypt$N$r$p$salt$hash cannot log in',
      );
    const withoutKey = this.opts.deviceKey
      ? 0
      : [...identities.values()].filter((i) => !i.passwordHash).length;
    if (withoutKey > 0)
      this.opts.log.warn(
        { count: withoutKey },
        'no device key: devices without their own passwordHash cannot log in',
      );
    this.identities = identities;
    for (const [id, entry] of this.verified)
      if (identities.get(id)?.passwordHash !== entry.encoded) this.verified.delete(id);
  }

  async authenticate(username: string | undefined, password: Buffer | undefined): Promise<Principal | null> {
    // [MQTT-3.1.2-19..22] anonymous logins (no user name or no password) are refused outright.
    if (!username || !password) return null;
    if (username === this.opts.service.username)
      return timingSafeEqual(this.mac(password), this.serviceMac) ? { kind: 'service', id: username } : null;
    const identity = this.identities.get(username);
    if (!identity) return null;
    const principal: Principal = { kind: identity.kind, id: identity.id };
    if (identity.passwordHash)
      return (await this.checkHash(identity.id, identity.passwordHash, password)) ? principal : null;
    if (!this.opts.deviceKey) return null;
    const expected = Buffer.from(deriveDevicePassword(this.opts.deviceKey, identity.id));
    return password.length === expected.length && timingSafeEqual(password, expected) ? principal : null;
  }

  /**
   * A device's client id must be its own id, or its id followed by `-` and a suffix that is not
   * another identity's id: one device can then never take over another's session (which would also
   * cut that device off). The service account may use any client id.
   */
  canUseClientId(p: Principal, clientId: string): boolean {
    if (p.kind === 'service' || p.kind === 'open') return true;
    if (clientId === p.id) return true;
    return (
      clientId.startsWith(`${p.id}-`) &&
      !this.identities.has(clientId) &&
      clientId !== this.opts.service.username
    );
  }

  canPublish(p: Principal, topic: string): boolean {
    return this.acl.canPublish(p, topic);
  }

  canSubscribe(p: Principal, filter: string): boolean {
    return this.acl.canSubscribe(p, filter);
  }

  isRateLimited(p: Principal): boolean {
    return p.kind === 'sensor' || p.kind === 'substation' || p.kind === 'weather';
  }

  private mac(value: Buffer | string): Buffer {
    return createHmac('sha256', this.cacheKey).update(value).digest();
  }

  private async checkHash(id: string, encoded: string, password: Buffer): Promise<boolean> {
    const cached = this.verified.get(id);
    const mac = this.mac(password);
    // Only successes are cached, keyed to the exact hash, so a wrong password always pays for scrypt
    // and a changed hash in network.yaml is checked afresh.
    if (cached && cached.encoded === encoded) return timingSafeEqual(cached.mac, mac);
    if (!(await this.acquire())) return false;
    try {
      const ok = await verifyScryptHash(password, encoded);
      if (ok) this.verified.set(id, { encoded, mac });
      return ok;
    } catch {
      return false;
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<boolean> {
    if (this.running < this.opts.passwordCheckConcurrency) {
      this.running++;
      return Promise.resolve(true);
    }
    if (this.waiting.length >= this.opts.passwordCheckQueue) return Promise.resolve(false);
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.running++;
        resolve(true);
      }),
    );
  }

  private release(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
