import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { householdsMigrations } from '../../src/households/migrations.ts';
import type { SqlMigration } from '../../src/storage/sql-migrate.ts';
import { ticketSqlMigrations } from '../../src/tickets/migrations.ts';

/**
 * A migration that a deployed database has recorded in schema_migrations is never edited: its text is
 * what those databases ran. The fixture holds the text of every recorded step of both dialects as
 * released, so a tidy-up of how the text is built cannot change one byte of it unnoticed.
 */
const recorded = JSON.parse(
  readFileSync(new URL('../fixtures/recorded-migrations.json', import.meta.url), 'utf8'),
) as SqlMigration[];

describe('recorded migrations keep their released text', () => {
  const current = [...ticketSqlMigrations, ...householdsMigrations];

  it('lists every released step, in order', () => {
    expect(current.slice(0, recorded.length).map((m) => m.id)).toEqual(recorded.map((m) => m.id));
  });

  for (const m of recorded) {
    for (const dialect of ['sqlite', 'postgres'] as const) {
      it(`${m.id} on ${dialect} is the released text, byte for byte`, () => {
        expect(current.find((c) => c.id === m.id)?.[dialect]).toBe(m[dialect]);
      });
    }
  }
});
