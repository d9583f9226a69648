import { z } from 'zod';

/**
 * The `ops` section of heatwatch.yaml: where the operational database lives (docs/architecture.md
 * decision 3). `sqlite` is the embedded default (`data/ops.db`, no server needed); `postgres` is a
 * city's shared database, its URL only from the environment (HEATWATCH_PG_URL), since it may carry a
 * password. Limits of the PostgreSQL pool are named here so an operator can size them to the server.
 */
export const opsSchema = z
  .object({
    kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
    postgres: z
      .object({
        /** Connections this instance holds open at most; the server's max_connections is shared by all instances. */
        poolSize: z.number().int().min(1).max(1000).default(10),
        /** A new connection must be established within this time, else the call fails (and a start exits). */
        connectTimeoutMs: z.number().int().min(100).max(600_000).default(5000),
        /** The server cancels a statement running longer than this (PostgreSQL statement_timeout). */
        statementTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
        /** An unused pooled connection is closed after this long. */
        idleTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
      })
      .strict()
      .prefault({}),
    /**
     * The city's live feed (src/ops/live-feed.ts, `ops.kind: postgres` only): ticket, case and
     * building-state changes of every instance, in one order, on every instance's live stream.
     */
    live: z
      .object({
        /** Rows read per query while an instance catches up. */
        batch: z.number().int().min(1).max(10_000).default(500),
        /** First wait before a lost listening connection is made again; doubles up to reconnectMaxMs. */
        reconnectInitialMs: z.number().int().min(10).max(600_000).default(500),
        reconnectMaxMs: z.number().int().min(10).max(3_600_000).default(30_000),
        /** A listening connection must be established within this time. */
        connectTimeoutMs: z.number().int().min(100).max(600_000).default(5000),
        /** Events older than this are deleted from the feed (it carries news, not history). */
        retentionMs: z
          .number()
          .int()
          .min(60_000)
          .max(30 * 24 * 3_600_000)
          .default(24 * 3_600_000),
        /** How often each instance deletes them. */
        pruneIntervalMs: z
          .number()
          .int()
          .min(1000)
          .max(24 * 3_600_000)
          .default(600_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type OpsConfig = z.infer<typeof opsSchema>;
