import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HeatwatchConfig } from '../config/loader.ts';
import { type DeviceIdentity, deriveDevicePassword, deviceIdentities } from '../mqtt/auth.ts';
import { mosquittoAcl, mosquittoPasswordLine } from '../mqtt/mosquitto.ts';
import { commandArgs, configDir, loadConfigOrReport } from './command.ts';

const USAGE = `usage: heatwatch mosquitto-files --out DIR [--config DIR] [--iterations N]

Writes, for a production Mosquitto 2.x, from the registry (network.yaml) and the secrets in the
environment (HEATWATCH_DEVICE_KEY, HEATWATCH_MQTT_PASSWORD):
  DIR/password_file   every device (derived password) and the service account, PBKDF2-SHA512
  DIR/acl_file        each device writes only its own topics; the service reads all
  DIR/heatwatch.conf  listener settings to include from mosquitto.conf
`;

/** `mosquitto-files --out DIR`: the external broker's credentials and ACL, equal to the embedded one's. */
export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs(args, USAGE, { out: { type: 'string' }, iterations: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (!values.out) {
    process.stderr.write(USAGE);
    return 2;
  }
  // 1000 rounds: derived passwords carry 256 bits, so the count guards only the service password;
  // Mosquitto pays it on every login, so more mostly slows reconnect storms.
  const iterations = Number(values.iterations ?? 1000);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > 10_000_000) {
    process.stderr.write(`--iterations must be a whole number from 1 to 10000000\n`);
    return 2;
  }
  const config = loadConfigOrReport(configDir(values.config));
  if (typeof config === 'number') return config;
  const { deviceKey, mqttPassword } = config.secrets;
  if (!deviceKey || !mqttPassword) {
    process.stderr.write(
      'HEATWATCH_DEVICE_KEY and HEATWATCH_MQTT_PASSWORD must both be set: the files carry hashes of ' +
        'passwords derived from them, and devices and the service must use the same values.\n',
    );
    return 2;
  }
  writeFiles(resolve(values.out), config, { deviceKey, mqttPassword, iterations });
  return 0;
}

interface Passwords {
  deviceKey: string;
  mqttPassword: string;
  iterations: number;
}

/** Writes the three files into `out` and says what it wrote. */
function writeFiles(out: string, config: HeatwatchConfig, passwords: Passwords): void {
  const { service, network, registry } = config;
  const { identities, ambiguous } = deviceIdentities(registry, [network.weatherStation]);
  if (ambiguous.length > 0) {
    process.stderr.write(`ids used by more than one kind of device, left out: ${ambiguous.join(', ')}\n`);
  }
  identities.delete(service.mqtt.username);
  const { lines, ownHash } = passwordLines(identities, service.mqtt.username, passwords);
  mkdirSync(out, { recursive: true });
  const pwFile = join(out, 'password_file');
  const aclFile = join(out, 'acl_file');
  // The password file is a list of hashes of working credentials: readable by the broker only.
  writeFileSync(pwFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  chmodSync(pwFile, 0o600);
  writeFileSync(
    aclFile,
    mosquittoAcl({
      topicRoot: service.mqtt.topicRoot,
      identities: identities.values(),
      serviceUser: service.mqtt.username,
    }),
  );
  writeFileSync(join(out, 'heatwatch.conf'), mosquittoConf(pwFile, aclFile));
  process.stdout.write(
    `wrote ${lines.length} accounts to ${pwFile} and the ACL to ${aclFile} (${identities.size} devices)\n`,
  );
  if (ownHash.length > 0)
    process.stderr.write(
      `${ownHash.length} sensors have their own passwordHash and are NOT in the password file; add them ` +
        `with mosquitto_passwd: ${ownHash.slice(0, 10).join(', ')}${ownHash.length > 10 ? ', …' : ''}\n`,
    );
}

/**
 * One password-file line per device (its derived password) and one for the service account; the ids
 * of devices with their own hash, which the file cannot carry.
 */
function passwordLines(
  identities: Map<string, DeviceIdentity>,
  serviceUser: string,
  { deviceKey, mqttPassword, iterations }: Passwords,
): { lines: string[]; ownHash: string[] } {
  const lines: string[] = [];
  const ownHash: string[] = [];
  for (const identity of identities.values()) {
    // Its own scrypt hash means heatwatch never knew the password: Mosquitto needs it set by hand.
    if (identity.passwordHash) ownHash.push(identity.id);
    else
      lines.push(
        mosquittoPasswordLine(identity.id, deriveDevicePassword(deviceKey, identity.id), iterations),
      );
  }
  lines.push(mosquittoPasswordLine(serviceUser, mqttPassword, iterations));
  return { lines, ownHash };
}

/** The settings heatwatch's promises rely on (README "Reliability" explains each). */
function mosquittoConf(pwFile: string, aclFile: string): string {
  return `# heatwatch: include from mosquitto.conf, or copy into it.
per_listener_settings false
allow_anonymous false
password_file ${pwFile}
acl_file ${aclFile}
# Largest packet accepted, bytes: heatwatch's mqtt.limits.maxPayloadBytes plus the topic and header.
max_packet_size 66560
# Keep QoS 1 messages for heatwatch while it is away or slow: the defaults (1000 messages, 20 in flight)
# drop messages under load. Size the queue for the longest ingestion outage you plan to survive:
# devices x reports per hour x hours (e.g. 100 000 sensors every 5 min for 2 h = 2 400 000).
max_queued_messages 2400000
max_queued_bytes 0
max_inflight_messages 1000
# Sessions and queued messages survive a broker restart.
persistence true
autosave_interval 60
# Keep heatwatch's MQTT 3.1.1 session at least as long as mqtt.sessionExpiryS.
persistent_client_expiration 14d
`;
}
