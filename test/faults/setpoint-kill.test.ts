import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { uniqueRoot } from '../support/servers.ts';
import { mqttPublisher, SetpointSubscriber, startBroker } from '../tickets/broker.ts';

const COUNT = 5;
/** The third command dies on its way out: two before it are published, two after it wait. */
const KILL_AT = 3;

/** Runs one life of the child; resolves with its stdout lines and how it ended. */
function life(
  args: string[],
): Promise<{ lines: string[]; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/faults/setpoint-kill-child.ts', ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code !== 0 && signal === null) reject(new Error(`child exited ${code}: ${err}`));
      else resolve({ lines: out.split('\n').filter(Boolean), signal, code });
    });
  });
}

/** Issue #13: SIGKILL between the transition to `applied` and the publish. */
describe('setpoint outbox across a SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-setpoint-kill-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a command committed with its ticket but never published is delivered exactly once after the restart', async () => {
    const broker = await startBroker();
    const root = uniqueRoot('hwkill');
    const subscriber = await SetpointSubscriber.start(broker.url, root);
    const flusher = await mqttPublisher(broker.url, root);
    try {
      const file = join(dir, 'ops.db');
      const first = await life(['apply', file, broker.url, root, String(COUNT), String(KILL_AT)]);
      expect(first.signal).toBe('SIGKILL');
      const committed = first.lines.filter((l) => l.startsWith('committed ')).map((l) => l.slice(10));
      expect(committed).toHaveLength(COUNT);
      expect(first.lines.at(-1)).toBe(`killed at ${committed[KILL_AT - 1]}-apply`);
      await subscriber.flush(flusher.client);
      // Before the restart the broker has the commands published before the kill, nothing else.
      expect(subscriber.received.map((p) => p.ticketId)).toEqual(committed.slice(0, KILL_AT - 1));

      const second = await life(['drain', file, broker.url, root, '0', '0']);
      expect(second.lines).toEqual([`drained ${COUNT - KILL_AT + 1}`]);
      const third = await life(['drain', file, broker.url, root, '0', '0']);
      expect(third.lines).toEqual(['drained 0']);
      await subscriber.flush(flusher.client);
      for (const id of committed)
        expect(
          subscriber.byTicket(id).map((p) => p.setpointId),
          id,
        ).toEqual([`${id}-apply`]);
      expect(subscriber.received).toHaveLength(committed.length);

      const db = openOpsDb(file, ticketMigrations);
      const rows = db.prepare("SELECT status FROM tickets WHERE status = 'applied'").all();
      expect(rows).toHaveLength(committed.length);
      expect(
        db.prepare('SELECT COUNT(*) AS n FROM setpoint_outbox WHERE published_ts IS NULL').get(),
      ).toEqual({
        n: 0,
      });
      db.close();
    } finally {
      await subscriber.stop();
      await flusher.client.endAsync(true);
      await broker.stop();
    }
  }, 60_000);
});
