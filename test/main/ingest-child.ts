/**
 * heatwatch's ingestion path as its own process, for the crash test: started, SIGKILLed mid-stream,
 * started again. Settings come from the environment the test sets.
 */
import { silentLogger } from '../../src/core/log.ts';
import { startHeatwatch } from '../../src/main.ts';

const env = process.env;
const hw = await startHeatwatch({
  configDir: 'config',
  env: { HEATWATCH_DATA_DIR: env.HW_CHILD_DATA_DIR, HEATWATCH_SIM: 'off' },
  log: silentLogger(),
  ingestOnly: true,
  configure: (c) => {
    c.service.mqtt.mode = 'external';
    c.service.mqtt.url = env.HW_CHILD_MQTT_URL;
    c.service.mqtt.topicRoot = env.HW_CHILD_ROOT ?? 'heat';
    c.service.mqtt.clientId = `${env.HW_CHILD_ROOT}-ingest`;
    c.service.mqtt.sessionExpiryS = 300;
    c.service.http.port = 0;
    c.service.ingest.flushIntervalMs = 50;
  },
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void hw.stop().then(() => process.stdout.write('stopped\n'));
});
