import { DeviceAuth, resolveTrustSecrets } from '../mqtt/auth.ts';
import { EmbeddedBroker } from '../mqtt/broker.ts';
import type { AppContext } from './context.ts';

/** The broker ingestion, the simulator and tests talk to, and the credentials on it. */
export interface BrokerAccess {
  /** The embedded broker's bound address, or mqtt.url. */
  mqttUrl: string;
  /** Port of the embedded broker, when there is one. */
  mqttPort?: number;
  /** The ingest client's password (generated or from secrets with an embedded broker). */
  servicePassword: string | undefined;
  /** Device group key of this run (embedded broker), for an in-process simulator or tests. */
  deviceKey: string | undefined;
  /** The embedded broker, to drain on stop; absent with mqtt.mode external. */
  broker?: EmbeddedBroker;
}

/** Embedded broker with device authentication (unless mqtt.mode is external). */
export async function startBroker(ctx: AppContext): Promise<BrokerAccess> {
  const { config, svc, log, modules } = ctx;
  if (svc.mqtt.mode !== 'embedded')
    return {
      mqttUrl: svc.mqtt.url ?? '',
      servicePassword: config.secrets.mqttPassword,
      deviceKey: config.secrets.deviceKey,
    };
  const trust = resolveTrustSecrets(config.secrets, config.registry, log.child({ module: 'auth' }));
  const auth = new DeviceAuth({
    registry: config.registry,
    weatherStationIds: [config.network.weatherStation],
    topicRoot: svc.mqtt.topicRoot,
    deviceKey: trust.deviceKey,
    service: { username: svc.mqtt.username, password: trust.servicePassword },
    passwordCheckConcurrency: svc.mqtt.limits.passwordCheckConcurrency,
    passwordCheckQueue: svc.mqtt.limits.passwordCheckQueue,
    log: log.child({ module: 'auth' }),
  });
  const broker = new EmbeddedBroker({
    host: svc.mqtt.host,
    port: svc.mqtt.port,
    limits: svc.mqtt.limits,
    auth,
    clock: ctx.clock,
    tls: svc.mqtt.tls,
    log: log.child({ module: 'broker' }),
  });
  const mqttPort = (await broker.start()).port;
  modules.add({
    name: 'broker',
    stop: () => broker.stop(),
    // Devices added to network.yaml can log in at once.
    onConfig: (next) => auth.setRegistry(next.registry, [next.network.weatherStation]),
  });
  // What devices see of the broker's protections, on /metrics beside ingestion's own figures.
  ctx.metrics.gauge('heatwatch_broker_events', 'Embedded broker counters since start, by kind', () =>
    Object.entries(broker.stats()).map(([kind, value]) => ({ labels: { kind }, value })),
  );
  return {
    mqttUrl: `mqtt://${svc.mqtt.host}:${mqttPort}`,
    mqttPort,
    servicePassword: trust.servicePassword,
    deviceKey: trust.deviceKey,
    broker,
  };
}
