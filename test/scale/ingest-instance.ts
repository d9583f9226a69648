/**
 * One ingestion instance of a scaled-out deployment, as its own process: heatwatch's ingestion path
 * (startHeatwatch, ingestOnly) on an external broker, in an MQTT 5 shared-subscription group, with
 * its own data directory and a stable client id. Settings come from the environment the test sets.
 */
import { silentLogger } from '../../src/core/log.ts';
import { startHeatwatch } from '../../src/main.ts';

const env = process.env;
const hw = await startHeatwatch({
  configDir: 'config',
  env: { HEATWATCH_DATA_DIR: env.HW_SCALE_DATA_DIR, HEATWATCH_SIM: 'off' },
  log: silentLogger(),
  ingestOnly: true,
  configure: (c) => {
    c.service.mqtt.mode = 'external';
    c.service.mqtt.url = env.HW_SCALE_MQTT_URL;
    c.service.mqtt.topicRoot = env.HW_SCALE_ROOT ?? 'heat';
    c.service.mqtt.clientId = env.HW_SCALE_CLIENT_ID ?? 'heatwatch-ingest';
    c.service.mqtt.sharedGroup = env.HW_SCALE_GROUP;
    // Long enough to survive the kill and restart; short, so a test run leaves nothing for long.
    c.service.mqtt.sessionExpiryS = 120;
    c.service.http.port = 0;
    c.service.ingest.flushIntervalMs = 50;
  },
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void hw.stop().then(() => process.exit(0));
});
