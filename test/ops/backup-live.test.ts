import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { Heatwatch } from '../../src/main.ts';
import { listBackupSets, readManifest, verifyDatabase } from '../../src/ops/backup.ts';
import { restoreSet } from '../../src/ops/restore.ts';
import { publishReadings, startIngest, waitFor } from '../main/support.ts';

/**
 * The operator's backup beside a running heatwatch: heatwatch ingests readings from devices on its
 * embedded broker while `heatwatch backup` (the real CLI, another process, as cron runs it) copies
 * every database of the data directory. Each copy must open and pass integrity_check, and the reading
 * store's copy must hold a consistent prefix of what heatwatch stored.
 */
const ROOT = resolve(import.meta.dirname, '../..');
let hw: Heatwatch | undefined;
let dir: string | undefined;

afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function runCli(args: string[], dataDir: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HEATWATCH_DATA_DIR: dataDir, HEATWATCH_SIM: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('exit', (code) => res({ code, out, err }));
  });
}

const rows = (file: string): number => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM room_readings').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('heatwatch backup while heatwatch ingests', () => {
  it('copies every database online into a set that passes integrity_check and restores', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hw-backup-live-'));
    const dataDir = join(dir, 'data');
    hw = await startIngest(dataDir);
    const url = hw.mqttUrl;
    const sensors = [...hw.config.registry.sensors.keys()].slice(0, 16);
    const now = hw.clock.now();

    // Devices keep publishing until the backup is done, however long a busy machine makes it (the
    // count is only a cap: 4000 rounds of 16 sensors, timestamps within the last 67 minutes).
    let backupDone = false;
    const publishing = publishReadings(url, 'heat', sensors, 4000, now, true, {
      between: () => new Promise((r) => setTimeout(r, 2)),
      stopWhen: () => backupDone,
    });
    // Let some readings reach the store first, so the copy has something to be consistent about.
    await waitFor(() => rows(join(dataDir, 'readings.db')) >= 500, 60_000, '500 readings stored');
    const before = rows(join(dataDir, 'readings.db'));
    const backup = await runCli(['backup', '--config', 'config'], dataDir);
    const afterBackup = rows(join(dataDir, 'readings.db'));
    backupDone = true;
    const sent = await publishing;

    // The journal is held exclusively by the running heatwatch (locking_mode=EXCLUSIVE): it is left
    // out with a warning, never copied as an empty file.
    expect(backup.err.split('\n').filter((l) => l && !/% of \d+ pages/.test(l))).toEqual([
      expect.stringMatching(/^warning: journal\.db not backed up: held exclusively/),
    ]);
    expect(backup.code).toBe(0);
    // Heatwatch kept storing while the backup ran.
    expect(afterBackup).toBeGreaterThan(before);
    const sets = listBackupSets(join(dataDir, 'backups'));
    expect(sets).toHaveLength(1);
    const manifest = readManifest(sets[0]!);
    expect(manifest.skipped?.map((f) => f.name)).toEqual(['journal.db']);
    expect(manifest.files.map((f) => f.name).sort()).toEqual(
      readdirSync(dataDir)
        .filter((f) => f.endsWith('.db') && f !== 'journal.db')
        .sort(),
    );
    for (const f of manifest.files)
      expect(verifyDatabase(join(sets[0]!, f.name)), f.name).toEqual({ ok: true });
    const copied = rows(join(sets[0]!, 'readings.db'));
    expect(copied).toBeGreaterThanOrEqual(before);
    expect(copied).toBeLessThanOrEqual(afterBackup);
    expect(manifest.files.find((f) => f.name === 'readings.db')?.migrations).toContain('readings-001');

    // Restore needs heatwatch stopped; afterwards the store holds exactly the copy.
    await hw.stop();
    hw = undefined;
    expect(rows(join(dataDir, 'readings.db'))).toBeGreaterThanOrEqual(Math.min(sent.size, afterBackup));
    const restored = restoreSet({ setDir: sets[0]!, dataDir, force: false });
    expect(restored.ok, restored.ok ? '' : restored.reason).toBe(true);
    expect(rows(join(dataDir, 'readings.db'))).toBe(copied);
  }, 120_000);
});
