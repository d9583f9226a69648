/**
 * Scenario 6, memory: RSS of the live state for 100 000 and 1 000 000 sensors, each in a fresh process
 * (bench/procs/live-memory.ts, --expose-gc). The reference is the same process's RSS after its imports.
 */
import { benchChild, pad } from '../lib.ts';

export interface MemoryRow {
  sensors: number;
  baseMb: number;
  registryMb: number;
  liveStateMb: number;
  totalRssMb: number;
  bytesPerSensor: number;
}

export async function runMemory(opts: { sizes: number[] }): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const n of opts.sizes) {
    const { probe: _p, ...r } = await benchChild<MemoryRow & { probe?: number }>(
      'bench/procs/live-memory.ts',
      [String(n)],
      { timeoutMs: 300_000, nodeArgs: ['--expose-gc', '--max-old-space-size=8192'] },
    ).result;
    rows.push(r);
  }
  return rows;
}

export function formatMemory(rows: MemoryRow[]): string {
  const out = ['memory: RSS deltas after full GC, synthetic network, one process per size'];
  out.push('    sensors  base MB  registry MB  live state MB  process RSS MB  bytes/sensor (registry+live)');
  for (const r of rows)
    out.push(
      `  ${pad(r.sensors, 9)} ${pad(r.baseMb, 8)} ${pad(r.registryMb, 12)} ${pad(r.liveStateMb, 14)} ${pad(r.totalRssMb, 15)} ${pad(r.bytesPerSensor, 13)}`,
    );
  return out.join('\n');
}
