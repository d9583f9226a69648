/**
 * heatwatch's ingestion path as its own process for `ingest-kill-repeat.test.ts`: started, SIGKILLed,
 * started again with the same client id and data directory. Each room reading it has journalled is
 * reported on stdout (`j sensor@ts`), so the test can count the broker's redeliveries across lives
 * (the counters on /metrics die with each SIGKILLed process).
 * Writes to a pipe are synchronous on Linux, so a report printed before a SIGKILL reaches the test.
 */
import { silentLogger } from '../../src/core/log.ts';
import { startHeatwatch } from '../../src/main.ts';
import { Journal, type JournalEntry } from '../../src/storage/journal.ts';

// Reports each reading once its journal transaction has committed. Hooked on the journal itself, before
// start: the broker delivers the session's queue as soon as ingestion connects, ahead of any
// listener a caller could add after `startHeatwatch` resolves.
const appendMany = Journal.prototype.appendMany;
const commitAndReport = (journal: Journal, entries: readonly JournalEntry[]): void => {
  appendMany.call(journal, entries);
  const lines = entries
    .filter((e) => e.kind === 'room')
    .flatMap((e) => e.readings.map((r) => `j ${(r as { sensorId: string }).sensorId}@${r.ts}\n`));
  if (lines.length > 0) process.stdout.write(lines.join(''));
};
Journal.prototype.appendMany = function (this: Journal, entries) {
  // The removal check (README "Fault tests"): HW_CHILD_REMOVE=ack-before-journal returns at once and
  // commits HW_CHILD_REMOVE_DELAY_MS later (a write-behind journal; unset: one event-loop turn later),
  // so the PUBACKs leave before the readings are durable.
  if (process.env.HW_CHILD_REMOVE === 'ack-before-journal') {
    const copy = [...entries];
    const delayMs = Number(process.env.HW_CHILD_REMOVE_DELAY_MS ?? 0);
    if (delayMs > 0) setTimeout(() => commitAndReport(this, copy), delayMs);
    else setImmediate(() => commitAndReport(this, copy));
    return;
  }
  commitAndReport(this, entries);
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
