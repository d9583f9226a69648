/**
 * One rules instance of a city as its own process: `startHeatwatch` (src/main.ts) with role `rules`
 * on the city's PostgreSQL, an embedded broker on a free port, the wall clock as heating time, and
 * the lease and re-check timings it is given. Spawned by test/support/rules-process.ts for the
 * failover test and bench; it is killed, so everything the parent needs is printed as it happens.
 *
 * argv[2]: JSON of RulesChildOptions (rules-process.ts).
 * stdout, one line each, written synchronously (a line is out before the next database call):
 *   `ready <mqttPort>`                  started
 *   `acquired <partition> <token> <ms>` a lease taken (wall ms)
 *   `lost <partition> <ms>`             a lease given up or lost
 *   `claimed <ticketId>`                a due re-check claimed (the judging follows)
 *   `recorded <ticketId>`               a re-check's outcome committed
 *   `live <n>`                          sensors with a reading in the live state, when it changes
 * stderr: error-level log lines.
 */
import { writeSync } from 'node:fs';
import { pino } from 'pino';
import { startOnPostgres } from '../main/support.ts';
import type { RulesChildOptions } from './rules-process.ts';

const o = JSON.parse(process.argv[2]!) as RulesChildOptions;
const say = (line: string) => writeSync(1, `${line}\n`);

interface LogLine {
  level: number;
  msg?: string;
  partition?: string;
  token?: number;
  ticketId?: string;
  err?: { message?: string };
}
const lines: Record<string, (l: LogLine) => string> = {
  'lease acquired': (l) => `acquired ${l.partition} ${l.token} ${Date.now()}`,
  'lease lost; partition stopped': (l) => `lost ${l.partition} ${Date.now()}`,
  're-check claimed': (l) => `claimed ${l.ticketId}`,
  're-check recorded': (l) => `recorded ${l.ticketId}`,
};
const log = pino(
  { level: 'debug' },
  {
    write: (text: string) => {
      const l = JSON.parse(text) as LogLine;
      const line = l.msg === undefined ? undefined : lines[l.msg];
      if (line) say(line(l));
      if (l.level >= 50) writeSync(2, `${l.msg} ${l.err?.message ?? ''}\n`);
    },
  },
);

const hw = await startOnPostgres({
  configDir: o.configDir,
  dataDir: o.dataDir,
  url: o.url,
  env: { HEATWATCH_ROLE: 'rules', HEATWATCH_INSTANCE_ID: o.instanceId },
  log,
  configure: (c) => {
    c.service.logLevel = 'debug';
    c.service.mqtt.limits.devicePublishesPerMin = 1_000_000;
    if (o.leases) Object.assign(c.service.partition.leases, o.leases);
    if (o.recheck) Object.assign(c.rules.recheck, o.recheck);
  },
});
say(`ready ${hw.mqttPort}`);

// The parent publishes readings, then waits for them here before it makes re-checks due: a
// re-check without fresh readings of its target is deferred, not judged (docs/rules.md).
let seen = 0;
hw.bus.on('roomReadings', 'rules-child', () => {
  let n = 0;
  for (const id of hw.live.index.sensors.keys()) if (hw.live.sensor(id)?.tempC !== undefined) n++;
  if (n === seen) return;
  seen = n;
  say(`live ${n}`);
});

process.once('SIGTERM', () => {
  void hw.stop().then(() => process.exit(0));
});
