import { checkpointMigrations } from '../state/checkpoint.ts';
import { deadLetterMigrations } from './dead-letters.ts';
import { type Db, type Migration, openDb } from './sqlite.ts';

/**
 * The operational database (docs/architecture.md decision 3): dead letters, live-state checkpoints,
 * and — added by their modules — tickets, re-check schedule and audit. `synchronous = FULL`: what lives here is
 * what must survive a power cut. Each module exports its own `Migration[]` (ids prefixed by module);
 * main passes the others' lists in `extra`, so this file never needs to know them all.
 */
export const ingestOpsMigrations: readonly Migration[] = [...deadLetterMigrations, ...checkpointMigrations];

export function openOpsDb(file: string, extra: readonly Migration[] = [], busyTimeoutMs?: number): Db {
  return openDb(file, {
    synchronous: 'FULL',
    migrations: [...ingestOpsMigrations, ...extra],
    busyTimeoutMs,
  });
}
