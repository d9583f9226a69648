/**
 * heatwatch's ingestion path as its own process for `ingest-kill-repeat.test.ts`: started, SIGKILLed,
 * started again with the same client id and data directory. Each room reading it has journalled is
 * reported on stdout (`j sensor@ts`), so the test can count the broker's redeliveries across lives
 * (the counters on /metrics die with each SIGKILLed process).
 * Writes to a pipe are synchronous on Linux, so a report printed before a SIGKILL reaches the test.
 */
import { silentLogger } from '../../src/core/log.ts';
import { startHeatwatch } from '../../src/main.ts';
import { Journal } from '../../src/storage/journal.ts';

// Reports each reading once its journal insert has committed. Hooked on the journal itself, before
// start: the broker delivers the session's queue as soon as ingestion connects, ahead of any
// listener a caller could add after `startHeatwatch` resolves.
const append = Journal.prototype.append;
Journal.prototype.append = function (this: Journal, kind, readings, receivedMs) {
  append.call(this, kind, readings, receivedMs);
  if (kind === 'room')
    process.stdout.write(
      `${readings.map((r) => `j ${(r as { sensorId: string }).sensorId}@${r.ts}`).join('\n')}\n`,
    );
};

const env = process.env;
const hw = await startHeatwatch({
  configDir: 'config',
  env: { HEATWATCH_DATA_DIR: env.HW_CHILD_DATA_DIR, HEATWATCH_SIM: 'off' },
  log: silentLogger(),
  ingestOnly: true,
  watchConfig: false,
  configure: (c) => {
    c.service.mqtt.mode = 'external';
    c.service.mqtt.url = env.HW_CHILD_MQTT_URL;
    c.service.mqtt.topicRoot = env.HW_CHILD_ROOT ?? 'heat';
    // The same persistent session every life: what the broker queued meanwhile is delivered to it.
    c.service.mqtt.clientId = `${env.HW_CHILD_ROOT}-ingest`;
    c.service.mqtt.sessionExpiryS = 300;
    c.service.http.port = 0;
    c.service.ingest.flushIntervalMs = 50;
  },
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  const counters = hw.metrics
    .render()
    .split('\n')
    .filter((l) => /^heatwatch_(messages_received|readings_accepted|readings_stored)_total /.test(l));
  void hw.stop().then(() => process.stdout.write(`${counters.join('\n')}\nstopped\n`));
});
