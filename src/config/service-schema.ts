import cron from 'node-cron';
import { z } from 'zod';
import { householdsSchema } from './households-schema.ts';
import { httpSchema } from './http-schema.ts';
import { mqttSchema } from './mqtt-schema.ts';
import { opsSchema } from './ops-schema.ts';

/**
 * config/heatwatch.yaml: how the service runs. Every limit has a name and a default here, so an
 * engineer can find and tune it; the YAML file comments each key.
 */
export const serviceSchema = z
  .object({
    site: z.string().min(1).default('demo'),
    /**
     * What this instance runs (docs/deploy.md "A city on PostgreSQL"): `all` on one server;
     * `ingest`: broker → journal → reading store only; `rules`: the rules, tickets and re-checks of
     * the partitions it holds a lease on (and the API, for health); `api`: the API and dashboard of
     * the whole city, no rules.
     */
    role: z.enum(['all', 'ingest', 'rules', 'api']).default('all'),
    dataDir: z.string().min(1).default('data'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    /** Config files are re-read this long after the last change seen (editors write in steps). */
    reloadDebounceMs: z.number().int().min(10).max(60_000).default(500),
    clock: z
      .object({
        /** Heating-time ms per wall ms; 1 in production, e.g. 360 for a demo (an hour in 10 s). */
        speed: z.number().positive().max(100_000).default(1),
        /** Start the heating clock at this instant (ISO 8601); absent: now. */
        start: z.string().datetime({ offset: true }).optional(),
      })
      .strict()
      .prefault({}),
    mqtt: mqttSchema.prefault({}),
    ingest: z
      .object({
        /** Readings written per store transaction; small, because a store write blocks the event loop. */
        batchSize: z.number().int().min(1).max(100_000).default(200),
        /** A partial batch is flushed after this long. */
        flushIntervalMs: z.number().int().min(1).max(60_000).default(200),
        /**
         * Group commit of the journal (src/ingest/group-commit.ts): the messages of one event-loop turn
         * share one journal transaction, committed before any of them is acknowledged.
         */
        groupCommit: z
          .object({
            /** A group is committed once it holds this many messages. */
            maxMessages: z.number().int().min(1).max(100_000).default(1000),
            /**
             * How long a group may wait for more messages; 0 commits it at the end of the event-loop
             * turn that opened it (no timer wait).
             */
            maxWaitMs: z.number().int().min(0).max(1000).default(0),
          })
          .strict()
          .prefault({}),
        /** Readings older than this are refused (`ts_too_old`). */
        maxReadingAgeH: z
          .number()
          .positive()
          .max(24 * 365)
          .default(72),
        /** Readings stamped further ahead than this are refused (`ts_in_future`). */
        futureToleranceMs: z
          .number()
          .int()
          .min(0)
          .max(3_600_000)
          .default(5 * 60_000),
        /** Most readings one store-and-forward message may carry. */
        maxReadingsPerMessage: z.number().int().min(1).max(100_000).default(1000),
        /** Most levels of JSON nesting accepted before parsing is refused. */
        maxJsonDepth: z.number().int().min(2).max(64).default(8),
        /** Dead-letter payloads are kept up to this many bytes. */
        deadLetterPayloadBytes: z
          .number()
          .int()
          .min(64)
          .max(1024 * 1024)
          .default(4096),
        /** Dead letters older than this are pruned. */
        deadLetterRetentionDays: z.number().positive().max(3650).default(30),
        /** How often dead letters past retention are pruned (heating time). */
        deadLetterPruneIntervalMs: z.number().int().min(1000).max(86_400_000).default(3_600_000),
        /** Time allowed for the broker's first CONNACK at start. */
        brokerConnectTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
        /** /api/health waits this long for the reading store's ping before calling it unreachable. */
        storePingTimeoutMs: z.number().int().min(50).max(60_000).default(2000),
        /**
         * Network-server uplinks (docs/ingest.md): extra subscriptions, each with the format its
         * messages are in. The contract topics under mqtt.topicRoot are always subscribed too.
         */
        sources: z
          .array(
            z
              .object({
                filter: z
                  .string()
                  .min(1)
                  .max(256)
                  .refine(validFilter, 'an MQTT topic filter: `+` a whole level, `#` only as the last'),
                format: z.enum(['chirpstack', 'tts']),
              })
              .strict(),
          )
          .max(64)
          .default([]),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        kind: z.enum(['sqlite', 'influxdb']).default('sqlite'),
        sqlite: z
          .object({
            file: z.string().default('readings.db'),
            retentionDays: z.number().positive().max(3650).default(400),
            /** How often readings past retention are pruned (heating time). */
            pruneIntervalMs: z.number().int().min(1000).max(86_400_000).default(3_600_000),
            /** Rows deleted per pruning transaction, so a prune never holds the write lock for long. */
            pruneChunkRows: z.number().int().min(100).max(1_000_000).default(10_000),
            /**
             * FULL: a committed batch survives a power cut (readings are acknowledged to the broker
             * once stored). NORMAL survives a killed process only, for a faster demo.
             */
            synchronous: z.enum(['FULL', 'NORMAL']).default('FULL'),
            busyTimeoutMs: z.number().int().min(0).max(600_000).default(5000),
            /**
             * Store writes and pruning on a worker thread with its own connection, so a store
             * transaction never holds up acknowledgements or the live state (src/storage/sqlite-writer.ts).
             */
            writeInWorker: z.boolean().default(true),
          })
          .strict()
          .prefault({}),
        influxdb: z
          .object({
            url: z.string().url().optional(),
            /** Prefer HEATWATCH_INFLUX_TOKEN. */
            token: z.string().optional(),
            org: z.string().default('heatwatch'),
            bucket: z.string().default('heatwatch'),
            timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
            /** Most lines per write request; larger batches go as several requests, in order. */
            writeBatchLines: z.number().int().min(1).max(100_000).default(5000),
            /** Most bytes of line protocol per write request (InfluxDB Cloud refuses bodies > 50 MB). */
            writeBatchBytes: z
              .number()
              .int()
              .min(1024)
              .max(50 * 1024 * 1024)
              .default(4 * 1024 * 1024),
            /** Write bodies larger than this are gzipped. */
            gzipThresholdBytes: z
              .number()
              .int()
              .min(0)
              .max(50 * 1024 * 1024)
              .default(64 * 1024),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    spool: z
      .object({
        /** Disk budget of the spool; past it, new batches are refused and the broker keeps them. */
        maxBytes: z
          .number()
          .int()
          .min(1024 * 1024)
          .default(2 * 1024 * 1024 * 1024),
        /** The journal/spool file under dataDir: every accepted message lands here before its PUBACK. */
        file: z.string().min(1).default('journal.db'),
        /**
         * FULL: each message is fsynced before it is acknowledged (a power cut loses nothing
         * acknowledged). NORMAL: a killed process loses nothing; a power cut may lose up to
         * `syncIntervalMs` of acknowledged messages.
         */
        synchronous: z.enum(['FULL', 'NORMAL']).default('NORMAL'),
        /** With synchronous NORMAL: the WAL is synced at least this often (the power-loss window). */
        syncIntervalMs: z.number().int().min(10).max(60_000).default(1000),
        replayInitialBackoffMs: z.number().int().min(10).max(600_000).default(500),
        replayMaxBackoffMs: z.number().int().min(100).max(3_600_000).default(60_000),
        /**
         * Readings per store write while a backlog at least this large is replayed (after a store
         * outage); live traffic keeps `ingest.batchSize`.
         */
        replayBatchSize: z.number().int().min(1).max(100_000).default(2000),
      })
      .strict()
      .prefault({}),
    state: z
      .object({
        /** A sensor is offline after this many missed report intervals. */
        offlineAfterIntervals: z.number().positive().max(1000).default(3),
        checkpointIntervalMs: z.number().int().min(1000).max(3_600_000).default(60_000),
      })
      .strict()
      .prefault({}),
    http: httpSchema,
    sim: z
      .object({
        enabled: z.boolean().default(true),
        /** The simulator's adapter module (exports `createSimulator`, src/sim/port.ts), from the package root. */
        adapter: z.string().min(1).default('firmware-sim/adapter.ts'),
      })
      .strict()
      .prefault({}),
    /** Weather from a public forecast service over HTTP (docs/ingest.md "Forecast feed"). */
    weather: z
      .object({
        forecast: z
          .object({
            enabled: z.boolean().default(false),
            format: z.enum(['open-meteo', 'met-norway']).default('open-meteo'),
            url: z
              .string()
              .url()
              .default(
                'https://api.open-meteo.com/v1/forecast?latitude=59.91&longitude=10.75&hourly=temperature_2m&forecast_days=4',
              ),
            /** node-cron expression (wall time). */
            schedule: z
              .string()
              .refine((e) => cron.validate(e), 'not a valid node-cron expression')
              .default('7 * * * *'),
            timeoutMs: z.number().int().min(100).max(300_000).default(10_000),
            retries: z.number().int().min(0).max(20).default(3),
            retryInitialBackoffMs: z.number().int().min(1).max(600_000).default(2000),
            retryMaxBackoffMs: z.number().int().min(1).max(3_600_000).default(60_000),
            /** A forecast issued longer ago than this is acted on but marked stale (heating time). */
            staleAfterH: z.number().positive().max(240).default(12),
            staleCheckIntervalMs: z.number().int().min(1000).max(3_600_000).default(60_000),
            maxResponseBytes: z
              .number()
              .int()
              .min(1024)
              .max(64 * 1024 * 1024)
              .default(4 * 1024 * 1024),
            /** Longest forecast span accepted, first to last point. */
            maxHorizonH: z
              .number()
              .int()
              .min(1)
              .max(24 * 60)
              .default(16 * 24),
            maxPoints: z.number().int().min(1).max(100_000).default(2000),
            /** Outdoor temperatures outside this range refuse the whole forecast. */
            minTempC: z.number().min(-100).max(0).default(-70),
            maxTempC: z.number().min(0).max(100).default(60),
            /** MET Norway refuses requests without an identifying User-Agent (its terms of service). */
            userAgent: z.string().min(1).max(256).default('heatwatch/0.1 github.com/heatwatch'),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /**
     * Scale-out (docs/deploy.md): which substations this instance's rules engine owns. Partitions of
     * several instances must not overlap, so each substation's tickets, re-checks and setpoints come
     * from exactly one instance. Empty: this instance owns every substation (one process).
     */
    partition: z
      .object({
        substations: z.array(z.string().min(1)).default([]),
        /**
         * Partitions that fail over by themselves (docs/deploy.md "A city on PostgreSQL"): every rules
         * instance names the same split, holds a lease per partition in the operational database and
         * judges only the partitions it holds; a standby takes a partition whose lease expired.
         * Needs `ops.kind: postgres` (the lease table is shared). Empty `partitions`: no leases.
         */
        leases: z
          .object({
            /** Partition name → its substations; identical on every rules instance. */
            partitions: z
              .record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.array(z.string().min(1)).min(1))
              .default({}),
            /** This instance's name in the lease table (env HEATWATCH_INSTANCE_ID); absent: host-pid. */
            instanceId: z.string().min(1).max(128).optional(),
            /** The holder renews its leases this often. */
            renewMs: z.number().int().min(50).max(600_000).default(2000),
            /**
             * A lease lasts this long after its last renewal. A holder that could not renew for this
             * long stops writing for the partition; a standby may then take it.
             */
            durationMs: z.number().int().min(100).max(3_600_000).default(10_000),
            /**
             * A standby looks for expired leases this often: a dead holder's partition is taken within
             * durationMs + takeoverMs of its last renewal.
             */
            takeoverMs: z.number().int().min(50).max(600_000).default(2000),
          })
          .strict()
          .refine((l) => l.renewMs * 2 <= l.durationMs, {
            message: 'renewMs must be at most half of durationMs (a lease must survive one missed renewal)',
            path: ['renewMs'],
          })
          .prefault({}),
      })
      .strict()
      .prefault({}),
    /** Online backups of the SQLite databases in dataDir (src/ops/backup.ts, `heatwatch backup`). */
    backup: z
      .object({
        /** Where backups are written; relative to dataDir unless absolute. */
        dir: z.string().min(1).default('backups'),
        /** Backup sets kept; older ones are deleted after a successful backup. */
        keep: z.number().int().min(1).max(10_000).default(7),
        /** Pages copied per step; between steps the service keeps writing. */
        pagesPerStep: z.number().int().min(1).max(1_000_000).default(1000),
        /**
         * Another process writing restarts a stepwise copy (SQLite backup API). After this many
         * restarts the rest is copied in one step, inside one read snapshot (WAL: writers go on).
         */
        maxRestarts: z.number().int().min(0).max(1000).default(3),
      })
      .strict()
      .prefault({}),
    /** The operational database: embedded SQLite or a city's PostgreSQL (src/config/ops-schema.ts). */
    ops: opsSchema.prefault({}),
    /** The dispatcher's day: cases, complaints, tasks, work orders, digests, bulletin (docs/households.md). */
    households: householdsSchema.prefault({}),
  })
  .strict();

export type ServiceConfig = z.infer<typeof serviceSchema>;

/** MQTT topic filter syntax (MQTT 3.1.1 §4.7.1): wildcards fill a whole level, `#` is the last one. */
function validFilter(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((l, i) => {
    if (l === '#') return i === levels.length - 1;
    return l === '+' || (!l.includes('+') && !l.includes('#') && !l.includes('\0'));
  });
}
