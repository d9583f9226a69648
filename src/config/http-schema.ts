import { z } from 'zod';
import { isTimeZone, LOCALES } from '../i18n/index.ts';

/**
 * The `http` section of heatwatch.yaml: the API and dashboard listener, its limits against hostile
 * and slow clients, the live stream and the language people see. Its own file
 * because it is the largest section of the service config; service-schema.ts composes it.
 */
export const httpSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    bodyLimitBytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(256 * 1024),
    rateLimitPerMin: z.number().int().min(1).max(1_000_000).default(600),
    loginAttemptsPerMin: z.number().int().min(1).max(1000).default(10),
    /** Most buckets one history query may return (range / every). */
    historyMaxPoints: z.number().int().min(10).max(100_000).default(5000),
    /** Longest range one history query may cover. */
    historyMaxRangeDays: z.number().int().min(1).max(3660).default(400),
    /** Widest bucket (`every`) one history query may ask for. */
    historyMaxEveryDays: z.number().int().min(1).max(366).default(31),
    /** How far past the heating clock's now a query's `to` may lie (clock skew of clients). */
    queryMaxFutureMs: z
      .number()
      .int()
      .min(0)
      .max(366 * 86_400_000)
      .default(86_400_000),
    /** A client must send its request headers within this time, or gets 408 and is disconnected. */
    headersTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    /** ... and its whole request (headers and body) within this time. */
    requestTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
    /** How often the server looks for connections past those timeouts (their resolution). */
    timeoutCheckIntervalMs: z.number().int().min(10).max(60_000).default(1000),
    /** Longest range one compliance report may cover. */
    complianceMaxRangeDays: z.number().int().min(1).max(3660).default(400),
    /** Rows one audit-log page returns at most. */
    auditPageMax: z.number().int().min(10).max(100_000).default(1000),
    /** Build the dashboard with esbuild when the app starts (off: serve what dist/ holds). */
    buildDashboard: z.boolean().default(true),
    /**
     * How the dashboard colours a building until the rules engine has judged it: over-heated
     * above this mean, unbalanced when exposed units are this much colder than middle ones,
     * stale below this share of fresh sensors. Also the compliance band's upper edge.
     */
    /** How the dashboard, bulletins and CSV exports speak to people (users.yaml may choose per user). */
    locale: z
      .object({
        default: z.enum(LOCALES).default('en'),
        /** The site's IANA time zone: every time shown to a person is in it, whatever the browser's. */
        timeZone: z
          .string()
          .refine(isTimeZone, 'expected an IANA time zone such as Asia/Shanghai')
          .default('UTC'),
      })
      .strict()
      .prefault({}),
    sse: z
      .object({
        /** Readings to one client are coalesced to at most this many pushes per second. */
        maxPushesPerS: z.number().positive().max(100).default(4),
        /** A client whose unsent buffer passes this is dropped. */
        maxBufferedBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(1024 * 1024),
        /** Events kept for Last-Event-ID resumption. */
        replayEvents: z.number().int().min(0).max(1_000_000).default(2000),
        maxClients: z.number().int().min(1).max(100_000).default(1000),
        /** Live streams one user (token) may hold at once. */
        maxClientsPerUser: z.number().int().min(1).max(100_000).default(20),
        /** Live streams one client address may hold at once (a NAT may hide several screens). */
        maxClientsPerAddress: z.number().int().min(1).max(100_000).default(50),
        /** A client whose socket accepts nothing for this long (it stopped reading) is dropped. */
        writeTimeoutMs: z.number().int().min(100).max(600_000).default(30_000),
        heartbeatMs: z.number().int().min(1000).max(600_000).default(15_000),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((h) => h.headersTimeoutMs <= h.requestTimeoutMs, {
    message: 'headersTimeoutMs must not exceed requestTimeoutMs',
    path: ['headersTimeoutMs'],
  })
  .prefault({});
