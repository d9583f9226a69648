import type { ServiceConfig } from '../config/service-schema.ts';
import type { ConfigWatcher } from '../config/watcher.ts';
import { healthProvider, type IngestHealth } from '../ingest/health.ts';
import { Ingestor, type IngestSettings } from '../ingest/ingestor.ts';
import { UplinkSources } from '../ingest/sources.ts';
import { ServiceMqttClient } from '../mqtt/client.ts';
import { Topics } from '../mqtt/topics.ts';
import { StateCheckpoint } from '../state/checkpoint.ts';
import { LiveState } from '../state/live-state.ts';
import { createReadingStore } from '../storage/create-store.ts';
import { Journal } from '../storage/journal.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import type { Db } from '../storage/sqlite.ts';
import type { BrokerAccess } from './broker.ts';
import type { AppContext } from './context.ts';
import type { OpsStores } from './ops-stores.ts';

/** Where accepted readings go: the reading store, the journal (spool) before it, the live state. */
export interface ReadingPath {
  store: ReadingStore;
  journal: Journal;
  live: LiveState;
}

/** Reading store, journal (spool), live state and its checkpoints. */
export async function startReadingPath(ctx: AppContext, opsDb: Db): Promise<ReadingPath> {
  const { svc, modules, log } = ctx;
  // ── Reading store ──────────────────────────────────────────────────────────────────────────────
  const store = createReadingStore(svc, ctx.config.secrets, ctx.clock, log);
  await store.start();
  modules.add({ name: 'reading-store', stop: () => store.stop() });

  // ── Journal / spool ────────────────────────────────────────────────────────────────────────────
  const journal = new Journal(
    {
      file: ctx.dataFile(svc.spool.file),
      synchronous: svc.spool.synchronous,
      syncIntervalMs: svc.spool.syncIntervalMs,
      maxBytes: svc.spool.maxBytes,
    },
    ctx.wallClock,
  );
  journal.start();
  modules.add({ name: 'journal', stop: () => journal.stop() });

  // ── Live state and its checkpoints ─────────────────────────────────────────────────────────────
  const live = new LiveState(ctx.config.registry, svc.state.offlineAfterIntervals);
  const checkpoint = new StateCheckpoint(
    opsDb,
    live,
    { intervalMs: svc.state.checkpointIntervalMs },
    ctx.wallClock,
    log.child({ module: 'checkpoint' }),
  );
  checkpoint.start();
  modules.add({ name: 'checkpoint', stop: () => checkpoint.stop() });
  modules.add({
    name: 'live-state',
    onConfig: (next) => live.setRegistry(next.registry, next.service.state.offlineAfterIntervals),
  });
  return { store, journal, live };
}

export interface Ingestion {
  topics: Topics;
  ingestor: Ingestor;
  /** The service client: ingestion subscribes through it, setpoints go out through it. */
  mqttClient: ServiceMqttClient;
}

/** Ingestion: decode → journal → acknowledge; journal → store; the service client feeds it. */
export async function startIngestion(
  ctx: AppContext,
  d: OpsStores & ReadingPath & { broker: BrokerAccess },
): Promise<Ingestion> {
  const { svc, modules } = ctx;
  const topics = new Topics(svc.mqtt.topicRoot);
  const ingestor = new Ingestor({
    registry: () => d.live.index,
    topics,
    journal: d.journal,
    deadLetters: d.deadLetters,
    store: d.store,
    live: d.live,
    bus: ctx.bus,
    metrics: ctx.metrics,
    clock: ctx.clock,
    wallClock: ctx.wallClock,
    log: ctx.log.child({ module: 'ingest' }),
    settings: ingestSettings(svc),
  });
  ingestor.start();
  modules.add({
    name: 'ingestor',
    stop: () => ingestor.stop(),
    onConfig: (next) =>
      ingestor.applySettings(ingestSettings({ ...next.service, mqtt: svc.mqtt, spool: svc.spool })),
  });
  const mqttClient = serviceClient(ctx, d.broker, topics, ingestor);
  await mqttClient.start();
  modules.add({ name: 'mqtt-client', stop: () => mqttClient.stop() });
  // Stops run backwards: the embedded broker first hands what it acknowledged to the still
  // connected ingest client, so a graceful stop loses nothing (README "Reliability").
  const draining = d.broker.broker;
  if (draining) modules.add({ name: 'broker-drain', stop: () => draining.quiesce() });
  return { topics, ingestor, mqttClient };
}

function serviceClient(
  ctx: AppContext,
  broker: BrokerAccess,
  topics: Topics,
  ingestor: Ingestor,
): ServiceMqttClient {
  const { svc } = ctx;
  return new ServiceMqttClient(
    {
      url: broker.mqttUrl,
      clientId: svc.mqtt.clientId,
      username: svc.mqtt.username,
      password: broker.servicePassword,
      // aedes 1.x speaks MQTT 3.1.1 only; an external broker gets MQTT 5 when it offers it.
      protocolVersion: svc.mqtt.mode === 'embedded' ? 4 : 'auto',
      sessionExpiryS: svc.mqtt.sessionExpiryS,
      receiveMaximum: svc.mqtt.receiveMaximum,
      keepaliveS: svc.mqtt.keepaliveS,
      reconnectPeriodMs: svc.mqtt.reconnectPeriodMs,
      connectTimeoutMs: svc.ingest.brokerConnectTimeoutMs,
      filters: [
        ...topics.ingestFilters(svc.mqtt.sharedGroup),
        ...new UplinkSources(svc.ingest.sources).filters(svc.mqtt.sharedGroup),
      ],
    },
    (topic, payload, done) => ingestor.handle(topic, payload, done),
    ctx.log.child({ module: 'mqtt-client' }),
  );
}

/** What /api/health reports, from the ingestion path and the config in force. */
export function ingestionHealth(
  ctx: AppContext,
  d: ReadingPath & Ingestion & { broker: BrokerAccess; watcher: ConfigWatcher },
): { health(): Promise<IngestHealth> } {
  return healthProvider({
    broker: () => ({ connected: d.mqttClient.connected, detail: d.broker.mqttUrl }),
    store: d.store,
    ingestor: d.ingestor,
    journalStats: () => d.journal.stats(),
    configVersion: () => d.watcher.config.version,
    pingTimeoutMs: ctx.svc.ingest.storePingTimeoutMs,
  });
}

/** The ingestion limits of a service config (also re-applied on config reload). */
export function ingestSettings(svc: ServiceConfig): IngestSettings {
  return {
    limits: {
      maxPayloadBytes: svc.mqtt.limits.maxPayloadBytes,
      maxJsonDepth: svc.ingest.maxJsonDepth,
      maxReadingsPerMessage: svc.ingest.maxReadingsPerMessage,
      futureToleranceMs: svc.ingest.futureToleranceMs,
      maxReadingAgeMs: svc.ingest.maxReadingAgeH * 3_600_000,
    },
    sources: new UplinkSources(svc.ingest.sources),
    batchSize: svc.ingest.batchSize,
    flushIntervalMs: svc.ingest.flushIntervalMs,
    replayInitialBackoffMs: svc.spool.replayInitialBackoffMs,
    replayMaxBackoffMs: svc.spool.replayMaxBackoffMs,
    replayBatchSize: svc.spool.replayBatchSize,
    groupCommit: { ...svc.ingest.groupCommit },
  };
}
