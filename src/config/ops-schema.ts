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
  })
  .strict();

export type OpsConfig = z.infer<typeof opsSchema>;
