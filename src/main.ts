/**
 * heatwatch's composition root (docs/architecture.md "Modules and their ports"): load the config,
 * build every adapter, start them in order, stop them in reverse. Sections below follow the start order; each module's wiring is one
 * short block, so adding a feature is adding a block.
 *
 *   npm start -- [--speed N] [--config DIR]
 */
import { hostname } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type HeatwatchConfig, loadConfig } from './config/loader.ts';
import type { ServiceConfig } from './config/service-schema.ts';
import { ConfigWatcher } from './config/watcher.ts';
import { type Clock, ScaledClock, systemClock } from './core/clock.ts';
import { EventBus } from './core/event-bus.ts';
import type { HeatEvents } from './core/events.ts';
import { createLogger, type Logger } from './core/log.ts';
import {
  lastFetched,
  METRIC,
  MetricsRegistry,
  outboxMetrics,
  RULES_TICK_BUCKETS_S,
  timeEachCall,
} from './core/metrics.ts';
import { ModuleList } from './core/module.ts';
import { HouseholdsModule, householdsMigrations } from './households/module.ts';
import { auditMigrations, httpMigrations } from './http/audit.ts';
import { createHttpModule } from './http/module.ts';
import { healthProvider, type IngestHealth } from './ingest/health.ts';
import { Ingestor, type IngestSettings } from './ingest/ingestor.ts';
import { UplinkSources } from './ingest/sources.ts';
import { DeviceAuth, resolveTrustSecrets } from './mqtt/auth.ts';
import { EmbeddedBroker } from './mqtt/broker.ts';
import { ServiceMqttClient } from './mqtt/client.ts';
import { Topics } from './mqtt/topics.ts';
import { cityMigrations, instanceName, startCityRules, startLiveBridge } from './ops/city.ts';
import { LogLevelControl } from './ops/log-level.ts';
import { StoredUnitHours } from './rules/compliance.ts';
import { RulesModule, rulesMigrations, rulesSqlMigrations } from './rules/module.ts';
import { loadSimulator, type SimulatorFactory } from './sim/port.ts';
import { StateCheckpoint } from './state/checkpoint.ts';
import { LiveState } from './state/live-state.ts';
import { createReadingStore } from './storage/create-store.ts';
import { DeadLetters } from './storage/dead-letters.ts';
import { Journal } from './storage/journal.ts';
import { openOpsDb } from './storage/ops-db.ts';
import { EXIT_OPS_DB_UNREACHABLE, openOpsSql } from './storage/ops-sql.ts';
import type { ReadingStore } from './storage/reading-store.ts';
import { OpsDbUnreachableError, type SqlDb } from './storage/sql.ts';
import { sqliteMigrations } from './storage/sql-migrate.ts';
import { type Db, type Migration, openDb } from './storage/sqlite.ts';
import { ticketMigrations, ticketSqlMigrations } from './tickets/migrations.ts';
import { TicketService } from './tickets/ticket-service.ts';
import { ForecastFeed, forecastFeedSettings } from './weather/forecast-feed.ts';

export interface StartOptions {
  /** Config directory; default HEATWATCH_CONFIG or `config/`. */
  configDir?: string;
  env?: Record<string, string | undefined>;
  /** `--speed N`: overrides clock.speed. */
  speed?: number;
  log?: Logger;
  /** Adjusts the loaded config before anything starts (tests: ports 0, temp dirs). */
  configure?: (config: HeatwatchConfig) => void;
  /** Only the ingestion path: no simulator, rules or HTTP (crash tests, the benchmark). */
  ingestOnly?: boolean;
  /** The simulated network (sim.enabled); default: the factory of the module `sim.adapter` names. */
  simulator?: SimulatorFactory;
  /** Watch the config directory and apply edits (default true). */
  watchConfig?: boolean;
}

export interface Heatwatch {
  config: HeatwatchConfig;
  clock: Clock;
  bus: EventBus<HeatEvents>;
  live: LiveState;
  metrics: MetricsRegistry;
  store: ReadingStore;
  ingestor: Ingestor;
  journal: Journal;
  deadLetters: DeadLetters;
  opsDb: Db;
  /** The ops database of the modules on the query layer: ops.db, or PostgreSQL with `ops.kind: postgres`. */
  opsSql: SqlDb;
  /** The broker ingestion uses (the embedded one's bound address, or mqtt.url). */
  mqttUrl: string;
  /** Port of the embedded broker, when there is one. */
  mqttPort?: number;
  /** Port of the HTTP server, once the HTTP module is wired. */
  httpPort?: number;
  /** Device group key of this run (embedded broker), for an in-process simulator or tests. */
  deviceKey?: string;
  health(): Promise<IngestHealth>;
  /** Runtime log levels: the engineer API and config reloads call `setLogLevel`; SIGUSR2 toggles debug. */
  logLevels: LogLevelControl;
  stop(): Promise<void>;
}

export async function startHeatwatch(opts: StartOptions = {}): Promise<Heatwatch> {
  const env = opts.env ?? process.env;
  // ── Config ───────────────────────────────────────────────────────────────────────────────────
  const configDir = opts.configDir ?? env.HEATWATCH_CONFIG ?? 'config';
  const config = loadConfig(configDir, env);
  if (opts.speed !== undefined) config.service.clock.speed = opts.speed;
  opts.configure?.(config);
  const svc = config.service;
  // role (docs/deploy.md "A city on PostgreSQL"): an ingestion instance runs the ingestion path only.
  const ingestOnly = opts.ingestOnly === true || svc.role === 'ingest';
  const dataFile = (file: string) =>
    file === ':memory:' || isAbsolute(file) ? file : join(svc.dataDir, file);

  // ── Clock and logger ─────────────────────────────────────────────────────────────────────────
  const clock = new ScaledClock(
    svc.clock.speed,
    svc.clock.start !== undefined ? Date.parse(svc.clock.start) : undefined,
  );
  // Transport timers (flushes, disk syncs, reconnects) run in wall time whatever the demo speed.
  const wallClock = systemClock();
  const log = opts.log ?? createLogger(svc.logLevel);
  // Registered before any module takes its child logger, so a level change reaches them all.
  const logLevels = new LogLevelControl(log, svc.logLevel);
  logLevels.attach();
  const bus = new EventBus<HeatEvents>(log.child({ module: 'bus' }));
  const metrics = new MetricsRegistry({ defaults: true });
  bus.on('alert', 'log', (a) => log[a.active ? 'warn' : 'info']({ alert: a.key }, a.message));

  // Every module started is added here in start order; stop() stops them in reverse, and a start
  // that throws below stops those already started before the error goes on (the catch at the end).
  // A config edit that validated is handed to each module's onConfig, in start order.
  const modules = new ModuleList<HeatwatchConfig>(log);
  const stopAll = () => modules.stopAll();
  modules.add({
    name: 'log-levels',
    onConfig: (next, prev) => {
      if (next.service.logLevel === prev.service.logLevel) return;
      logLevels.setConfiguredLevel(next.service.logLevel);
      logLevels.setLogLevel(next.service.logLevel);
    },
  });

  try {
    // ── Operational database (dead letters, checkpoints; tickets and audit add theirs) ───────────
    const opsMigrations: Migration[] = [
      ...httpMigrations,
      ...ticketMigrations,
      ...rulesMigrations,
      ...sqliteMigrations(householdsMigrations),
      ...sqliteMigrations(cityMigrations),
    ];
    const opsDb = openOpsDb(dataFile('ops.db'), opsMigrations);
    modules.add({ name: 'ops-db', stop: () => void opsDb.close() });
    // The modules on the query layer (audit log, households, tickets, the city feed) use the ops.db above or the city's
    // PostgreSQL (`ops.kind`); the PostgreSQL steps run here, the SQLite ones ran with ops.db's.
    const opsSql = await openOpsSql({
      cfg: svc.ops,
      pgUrl: config.secrets.pgUrl,
      sqlite: opsDb,
      migrations: [
        ...auditMigrations,
        ...ticketSqlMigrations,
        ...rulesSqlMigrations,
        ...householdsMigrations,
        ...cityMigrations,
      ],
      log,
    });
    modules.add({ name: 'ops-sql', stop: () => opsSql.close() });
    // Dead letters get their own connection at synchronous=NORMAL: a flood of junk must not cost an
    // fsync per message (the ops DB is FULL for tickets); losing the last second of dead letters to
    // a power cut is acceptable for diagnostics. Same file, so one backup holds everything.
    const deadLetterDb = openDb(dataFile('ops.db'), { synchronous: 'NORMAL', migrations: [] });
    modules.add({ name: 'dead-letter-db', stop: () => void deadLetterDb.close() });
    const deadLetters = new DeadLetters(
      deadLetterDb,
      { payloadBytes: svc.ingest.deadLetterPayloadBytes, retentionDays: svc.ingest.deadLetterRetentionDays },
      clock,
    );
    const pruneTimer = clock.setInterval(() => deadLetters.prune(), svc.ingest.deadLetterPruneIntervalMs);
    modules.add({ name: 'dead-letter-pruning', stop: () => pruneTimer.cancel() });

    // ── Reading store ────────────────────────────────────────────────────────────────────────────
    const store = createReadingStore(svc, config.secrets, clock, log);
    await store.start();
    modules.add({ name: 'reading-store', stop: () => store.stop() });

    // ── Journal / spool ──────────────────────────────────────────────────────────────────────────
    const journal = new Journal(
      {
        file: dataFile(svc.spool.file),
        synchronous: svc.spool.synchronous,
        syncIntervalMs: svc.spool.syncIntervalMs,
        maxBytes: svc.spool.maxBytes,
      },
      wallClock,
    );
    journal.start();
    modules.add({ name: 'journal', stop: () => journal.stop() });

    // ── Live state and its checkpoints ───────────────────────────────────────────────────────────
    const live = new LiveState(config.registry, svc.state.offlineAfterIntervals);
    const checkpoint = new StateCheckpoint(
      opsDb,
      live,
      { intervalMs: svc.state.checkpointIntervalMs },
      wallClock,
      log.child({ module: 'checkpoint' }),
    );
    checkpoint.start();
    modules.add({ name: 'checkpoint', stop: () => checkpoint.stop() });
    modules.add({
      name: 'live-state',
      onConfig: (next) => live.setRegistry(next.registry, next.service.state.offlineAfterIntervals),
    });

    // ── Embedded broker (unless mqtt.mode is external) ───────────────────────────────────────────
    const topics = new Topics(svc.mqtt.topicRoot);
    let mqttUrl = svc.mqtt.url ?? '';
    let mqttPort: number | undefined;
    let servicePassword = config.secrets.mqttPassword;
    let deviceKey = config.secrets.deviceKey;
    let broker: EmbeddedBroker | undefined;
    let auth: DeviceAuth | undefined;
    if (svc.mqtt.mode === 'embedded') {
      const trust = resolveTrustSecrets(config.secrets, config.registry, log.child({ module: 'auth' }));
      servicePassword = trust.servicePassword;
      deviceKey = trust.deviceKey;
      auth = new DeviceAuth({
        registry: config.registry,
        weatherStationIds: [config.network.weatherStation],
        topicRoot: svc.mqtt.topicRoot,
        deviceKey: trust.deviceKey,
        service: { username: svc.mqtt.username, password: trust.servicePassword },
        passwordCheckConcurrency: svc.mqtt.limits.passwordCheckConcurrency,
        passwordCheckQueue: svc.mqtt.limits.passwordCheckQueue,
        log: log.child({ module: 'auth' }),
      });
      broker = new EmbeddedBroker({
        host: svc.mqtt.host,
        port: svc.mqtt.port,
        limits: svc.mqtt.limits,
        auth,
        clock,
        tls: svc.mqtt.tls,
        log: log.child({ module: 'broker' }),
      });
      const started = broker;
      mqttPort = (await started.start()).port;
      const deviceAuth = auth;
      modules.add({
        name: 'broker',
        stop: () => started.stop(),
        // Devices added to network.yaml can log in at once.
        onConfig: (next) => deviceAuth.setRegistry(next.registry, [next.network.weatherStation]),
      });
      // What devices see of the broker's protections, on /metrics beside ingestion's own figures.
      metrics.gauge('heatwatch_broker_events', 'Embedded broker counters since start, by kind', () =>
        Object.entries(started.stats()).map(([kind, value]) => ({ labels: { kind }, value })),
      );
      mqttUrl = `mqtt://${svc.mqtt.host}:${mqttPort}`;
    }

    // ── Ingestion: decode → journal → acknowledge; journal → store ───────────────────────────────
    const ingestor = new Ingestor({
      registry: () => live.index,
      topics,
      journal,
      deadLetters,
      store,
      live,
      bus,
      metrics,
      clock,
      wallClock,
      log: log.child({ module: 'ingest' }),
      settings: ingestSettings(svc),
    });
    ingestor.start();
    modules.add({
      name: 'ingestor',
      stop: () => ingestor.stop(),
      onConfig: (next) =>
        ingestor.applySettings(ingestSettings({ ...next.service, mqtt: svc.mqtt, spool: svc.spool })),
    });
    const mqttClient = new ServiceMqttClient(
      {
        url: mqttUrl,
        clientId: svc.mqtt.clientId,
        username: svc.mqtt.username,
        password: servicePassword,
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
      log.child({ module: 'mqtt-client' }),
    );
    await mqttClient.start();
    modules.add({ name: 'mqtt-client', stop: () => mqttClient.stop() });
    // Stops run backwards: the embedded broker first hands what it acknowledged to the still
    // connected ingest client, so a graceful stop loses nothing (README "Reliability").
    if (broker) {
      const draining = broker;
      modules.add({ name: 'broker-drain', stop: () => draining.quiesce() });
    }
    // ── Config reload: registry, ingestion limits and staleness apply at once; keys marked
    //    (restart) are reported, not half-applied (docs/architecture.md decision 7) ───────────────
    let rulesMod: RulesModule | undefined;
    let inForce = config;
    const watcher = new ConfigWatcher(
      config,
      env,
      log.child({ module: 'config' }),
      (change) => {
        const prev = inForce;
        inForce = change.config;
        void modules.onConfig(change.config, prev).then(() =>
          bus.emit('configReloaded', {
            version: change.config.version,
            changed: change.changed,
            restartNeeded: change.restartNeeded,
          }),
        );
      },
      (issues) => bus.emit('configRejected', { issues }),
    );
    if (opts.watchConfig !== false) {
      watcher.start();
      modules.add({ name: 'config-watcher', stop: () => watcher.stop() });
    }
    const health = healthProvider({
      broker: () => ({ connected: mqttClient.connected, detail: mqttUrl }),
      store,
      ingestor,
      journalStats: () => journal.stats(),
      configVersion: () => watcher.config.version,
      pingTimeoutMs: svc.ingest.storePingTimeoutMs,
    });

    // ── Simulator of the demo network (sim.enabled, not ingestOnly): publishes through the same
    //    broker as real devices, with the same credentials and ACL; started before the rules so
    //    their first tick sees readings, not a network that looks silent ───────────
    if (svc.sim.enabled && !ingestOnly) {
      const createSimulator = opts.simulator ?? (await loadSimulator(svc.sim.adapter));
      const sim = createSimulator({
        registry: config.registry,
        scenario: config.sim,
        clock,
        brokerUrl: mqttUrl,
        deviceKey,
        topicRoot: svc.mqtt.topicRoot,
        log: log.child({ module: 'sim' }),
        weatherStation: config.network.weatherStation,
      });
      await sim.start();
      modules.add({ name: 'simulator', stop: () => sim.stop() });
    }

    // ── Forecast feed (weather.forecast.enabled): an hourly forecast over HTTP into the live state,
    //    an input like the broker's (so also in ingestOnly); forecasts over MQTT work beside it ─────
    if (svc.weather.forecast.enabled) {
      const feed = new ForecastFeed({
        settings: forecastFeedSettings(svc.weather.forecast),
        stationId: config.network.weatherStation,
        live,
        bus,
        metrics,
        clock,
        log: log.child({ module: 'forecast' }),
      });
      feed.start();
      modules.add({ name: 'forecast-feed', stop: () => feed.stop() });
    }

    // ── Rules and tickets: judged on the live state on a clock tick; setpoints go out retained
    //    through the service client; re-checks are rows, so ones due while down run now ───────────
    // A city (ops.kind postgres): the rules run per partition lease, fenced (src/ops/city.ts).
    const city = opsSql.dialect === 'postgres';
    const instance = instanceName(config, hostname(), process.pid);
    const rulesDeps = {
      clock,
      bus,
      live,
      rules: config.rules,
      log,
      instance,
      publishRetained: (topic: string, body: unknown) => mqttClient.publishRetained(topic, body),
      setpointTopic: (id: string) => topics.setpoint(id),
    };
    if (!ingestOnly && svc.role !== 'api' && !city) {
      const mod = new RulesModule({ ...rulesDeps, ops: opsSql, partition: svc.partition.substations });
      await mod.start(store);
      modules.add({
        name: 'rules',
        stop: () => mod.stop(),
        // Validated by the loader already; the engine reports the keys that changed.
        onConfig: (next, prev) => {
          if (JSON.stringify(next.rules) === JSON.stringify(prev.rules)) return;
          log.info({ applied: mod.applyRules(next.rules) }, 'rules reloaded');
        },
      });
      metrics.gauge(
        'heatwatch_rules_paused',
        '1 while the rules pause because the ticket store (ops database) is not reachable',
        () => (mod.engine.pause.since === undefined ? 0 : 1),
      );
      const ticketCounts = lastFetched(() => mod.tickets.counts(), {});
      metrics.gauge('heatwatch_tickets', 'Adjustment tickets by status', () =>
        Object.entries(ticketCounts()).map(([status, value]) => ({ labels: { status }, value })),
      );
      outboxMetrics(metrics, mod.tickets.outbox, clock);
      timeEachCall(
        mod.engine,
        'tick',
        metrics.histogram(METRIC.rulesTickSeconds, 'Rules tick duration.', RULES_TICK_BUCKETS_S),
      );
      rulesMod = mod;
    }
    let cityTickets: TicketService | undefined;
    if (!ingestOnly && city) {
      // Every ticket of the city for the API (reads, operator actions), unfenced: an operator's
      // action is no partition's write; the transition table and compare-and-set keep it consistent.
      const tickets = new TicketService(
        opsSql,
        clock,
        bus,
        { publish: (sid, payload) => mqttClient.publishRetained(topics.setpoint(sid), payload) },
        () => watcher.config.rules,
        log.child({ module: 'tickets' }),
        { instance },
      );
      modules.add({ name: 'tickets', stop: () => tickets.outbox.stop() });
      cityTickets = tickets;
      if (svc.role !== 'api')
        modules.add(
          await startCityRules({
            config,
            db: opsSql,
            substationIds: [...config.registry.substations.keys()],
            holder: instance,
            wallClock,
            log,
            build: (p) => {
              const mod = new RulesModule({
                ...rulesDeps,
                ops: p.db,
                checkpointKey: p.name,
                partition: p.substations,
              });
              return {
                start: () => mod.start(store),
                stop: () => mod.stop(),
                applyRules: (n) => mod.applyRules(n),
              };
            },
          }),
        );
    }
    const ticketService = rulesMod?.tickets ?? cityTickets;

    // Compliance has one source: the rules' judgement of each unit-hour in the reading store, read
    // by the daily bulletin and the compliance page alike.
    const unitHours = new StoredUnitHours(
      store,
      () => live.index,
      () => watcher.config.rules,
    );

    // ── Households: cold flats, complaints, measurement tasks, work orders (docs/households.md) ──
    let households: HouseholdsModule | undefined;
    if (!ingestOnly && svc.households.enabled) {
      const hh = new HouseholdsModule({
        sql: opsSql,
        clock,
        wallClock,
        bus,
        cfg: () => watcher.config.service.households,
        rules: () => watcher.config.rules,
        tickets: ticketService ? () => ticketService.list({}) : undefined,
        fieldTask: async (id) => {
          const t = (await ticketService?.get(id))?.ticket;
          return t?.action.kind === 'field' ? t : undefined;
        },
        index: () => live.index,
        unitHours,
        sensorTempC: (id) => live.sensor(id)?.tempC,
        webhookSecret: config.secrets.webhookSecret,
        log,
      });
      await hh.start();
      modules.add({ name: 'households', stop: () => hh.stop() });
      households = hh;
    }

    // ── HTTP API and dashboard: live state, history from the store, the ingestor as the sink of
    //    manual readings; the ticket queue once the rules block above provides it ────────────────
    let httpPort: number | undefined;
    if (!ingestOnly) {
      const http = await createHttpModule({
        config,
        clock,
        wallClock,
        bus,
        live,
        opsDb,
        opsSql,
        log,
        store,
        metrics,
        health,
        manual: ingestor,
        tickets: ticketService,
        buildingState: rulesMod?.engine,
        rulesFindings: rulesMod ? () => rulesMod!.engine.status().findings : undefined,
        households,
        unitHours,
        liveSource: opsSql.dialect === 'postgres' ? 'feed' : 'bus',
      });
      httpPort = await http.start();
      // users.yaml applies on save: a removed token stops working at once.
      modules.add({ name: 'http', stop: () => http.stop(), onConfig: (next) => http.onConfig(next) });
      // A city: ticket, case and building events of every instance reach this one's live stream.
      const feed = await startLiveBridge({
        config,
        db: opsSql,
        bus,
        hub: http.hub,
        origin: instance,
        wallClock,
        log,
      });
      if (feed) modules.add(feed);
    }

    const dashboardUrl = `http://${svc.http.host}:${httpPort ?? svc.http.port}/`;
    log.info({ mqtt: mqttUrl, store: store.kind, speed: clock.speed }, `heatwatch running: ${dashboardUrl}`);

    return {
      config,
      clock,
      bus,
      live,
      metrics,
      store,
      ingestor,
      journal,
      deadLetters,
      opsDb,
      opsSql,
      mqttUrl,
      mqttPort,
      httpPort,
      deviceKey,
      health: () => health.health(),
      logLevels,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
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

/** `--speed N`, `--config DIR`; anything else is refused with usage. */
export function parseArgs(argv: readonly string[]): { speed?: number; configDir?: string } {
  const out: { speed?: number; configDir?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a === '--speed' && next !== undefined) {
      const n = Number(next);
      if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--speed needs a positive number, got '${next}'`);
      out.speed = n;
      i++;
    } else if (a === '--config' && next !== undefined) {
      out.configDir = next;
      i++;
    } else throw new Error(`unknown argument '${a}' (usage: heatwatch [--speed N] [--config DIR])`);
  }
  return out;
}

async function runFromCommandLine(): Promise<void> {
  // Handlers first: a signal that arrives while heatwatch is starting must still stop it in order.
  let stopRequested: string | undefined;
  let hw: Heatwatch | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    stopRequested = signal;
    if (!hw || stopping) return;
    stopping = true;
    process.stderr.write(`heatwatch: ${signal}, stopping\n`);
    hw.stop().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        process.stderr.write(`heatwatch: stop failed: ${String(err)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  try {
    hw = await startHeatwatch(parseArgs(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`heatwatch: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof OpsDbUnreachableError ? EXIT_OPS_DB_UNREACHABLE : 1;
    return;
  }
  if (stopRequested) shutdown(stopRequested);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href)
  void runFromCommandLine();
