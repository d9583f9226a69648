import { pbkdf2Sync, randomBytes } from 'node:crypto';
import type { DeviceIdentity } from './auth.ts';

/**
 * Mosquitto 2.x password file line: `user:$7$iterations$salt$hash`, PBKDF2-SHA512 with a 12-byte salt
 * and a 64-byte hash, both base64 (the format `mosquitto_passwd` writes; checked against 2.0.11).
 */
export function mosquittoPasswordLine(username: string, password: string, iterations: number): string {
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(password, salt, iterations, 64, 'sha512');
  return `${username}:$7$${iterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * The Mosquitto ACL equivalent to src/mqtt/acl.ts. Room sensors, the bulk, share `pattern` lines
 * (`%u` = the user name); substations, weather feeds and the service account get `user` sections.
 * A pattern applies to every user, so a substation could also write `{root}/sensors/{its id}/…`;
 * that id is no sensor (ids are unique across kinds), so ingestion refuses it as an unknown sensor.
 */
export function mosquittoAcl(opts: {
  topicRoot: string;
  identities: Iterable<DeviceIdentity>;
  serviceUser: string;
}): string {
  const r = opts.topicRoot;
  const lines = [
    '# Written by `heatwatch mosquitto-files` from network.yaml: regenerate it after editing the registry.',
    '# Room sensors: each writes only its own telemetry and status, and reads nothing.',
    `pattern write ${r}/sensors/%u/telemetry`,
    `pattern write ${r}/sensors/%u/status`,
    '',
  ];
  for (const i of opts.identities) {
    if (i.kind === 'substation')
      lines.push(
        `user ${i.id}`,
        `topic write ${r}/substations/${i.id}/telemetry`,
        `topic read ${r}/substations/${i.id}/setpoint`,
        '',
      );
    else if (i.kind === 'weather')
      lines.push(
        `user ${i.id}`,
        `topic write ${r}/weather/${i.id}/observation`,
        `topic write ${r}/weather/${i.id}/forecast`,
        '',
      );
  }
  lines.push(
    '# The heatwatch service reads everything (`#` never matches $SYS) and writes setpoint commands only.',
    `user ${opts.serviceUser}`,
    'topic read #',
    `topic write ${r}/substations/+/setpoint`,
    '',
  );
  return lines.join('\n');
}
