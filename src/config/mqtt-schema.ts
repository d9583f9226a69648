import { z } from 'zod';

/**
 * The `mqtt` section of heatwatch.yaml: the broker heatwatch runs or joins, its session, and the
 * limits the embedded broker puts on devices. Its own file so service-schema.ts stays a readable
 * overview; service-schema.ts composes it.
 */
export const mqttSchema = z
  .object({
    /** `embedded`: run aedes in-process; `external`: connect to `url`. */
    mode: z.enum(['embedded', 'external']).default('embedded'),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(1884),
    url: z.string().url().optional(),
    topicRoot: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/,
        'topic root: letters, digits, _ and - in /-separated levels',
      )
      .default('heat'),
    /** Stable client id: the broker keeps this session's queue while heatwatch restarts. */
    clientId: z.string().min(1).max(64).default('heatwatch-ingest'),
    username: z.string().default('heatwatch'),
    /** Service account password; prefer HEATWATCH_MQTT_PASSWORD. */
    password: z.string().optional(),
    /** MQTT 5 shared-subscription group; several instances with the same group split the load. */
    sharedGroup: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .optional(),
    /** MQTT 5 session expiry: how long the broker keeps our queue while we are away. */
    sessionExpiryS: z
      .number()
      .int()
      .min(0)
      .max(4_294_967_295)
      .default(7 * 24 * 3600),
    keepaliveS: z.number().int().min(5).max(3600).default(30),
    /** Receive Maximum we announce: the broker's in-flight window towards us. */
    receiveMaximum: z.number().int().min(1).max(65_535).default(1000),
    reconnectPeriodMs: z.number().int().min(100).max(600_000).default(1000),
    tls: z
      .object({
        certFile: z.string(),
        keyFile: z.string(),
        caFile: z.string().optional(),
        requireClientCert: z.boolean().default(false),
        port: z.number().int().min(1).max(65535).default(8883),
      })
      .strict()
      .optional(),
    limits: z
      .object({
        maxPayloadBytes: z
          .number()
          .int()
          .min(256)
          .max(16 * 1024 * 1024)
          .default(64 * 1024),
        maxTopicLevels: z.number().int().min(3).max(32).default(8),
        /** Per-device publishes per minute before excess is dropped and counted. */
        devicePublishesPerMin: z.number().int().min(1).max(100_000).default(120),
        /** Connection attempts per client id per minute. */
        connectAttemptsPerMin: z.number().int().min(1).max(10_000).default(30),
        /** aedes drops a subscriber whose socket has not drained within this time. */
        drainTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
        /** aedes concurrency: messages in flight per client in the embedded broker. */
        brokerConcurrency: z.number().int().min(1).max(10_000).default(100),
        /** A socket that has not sent CONNECT within this time is closed (slow-loris guard). */
        connectTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
        /** scrypt password checks run at once (each ~16 MiB and a libuv thread). */
        passwordCheckConcurrency: z.number().int().min(1).max(64).default(2),
        /** Logins waiting for a scrypt check beyond this are refused, not queued without end. */
        passwordCheckQueue: z.number().int().min(0).max(100_000).default(1000),
      })
      .strict()
      .prefault({}),
  })
  .strict();
