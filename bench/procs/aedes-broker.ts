/**
 * A bare aedes broker (the library heatwatch embeds) in its own process, for the bench: no auth and no
 * rate limits, so the figures measure delivery, not heatwatch's broker policy.
 *
 *   node --import tsx bench/procs/aedes-broker.ts PORT
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2]);
// Same router concurrency as heatwatch's embedded broker default (mqtt.limits.brokerConcurrency).
const aedes = await Aedes.createBroker({ concurrency: 100 });
const server = createServer(aedes.handle);
server.listen(port, '127.0.0.1');
const stop = () => {
  server.close();
  aedes.close(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
