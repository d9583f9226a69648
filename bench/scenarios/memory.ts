/**
 * Scenario 6, memory: the whole process holding the network config, the registry index and the live
 * state of 100 000 and 1 000 000 sensors, each size in a fresh process (bench/procs/live-memory.ts,
 * --expose-gc). The reference is the same process's RSS after its imports. Goal: < 600 MB RSS at 1 M.
 */
import { benchChild, pad } from '../lib.ts';

export interface MemoryRow {
  sensors: number;
  baseMb: number;
  configMb: number;
  registryMb: number;
  liveStateMb: number;
  totalRssMb: number;
  peakRssMb: number;
  heapUsedMb: number;
  bytesPerSensor: number;
}

export async function runMemory(opts: { sizes: number[] }): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const n of opts.sizes) {
    const { probe: _p, ...r } = await benchChild<MemoryRow & { probe?: unknown }>(
      'bench/procs/live-memory.ts',
      [String(n)],
      { timeoutMs: 300_000, nodeArgs: ['--expose-gc', '--max-old-space-size=8192'] },
    ).result;
    rows.push(r);
  }
  return rows;
}

export function formatMemory(rows: MemoryRow[]): string {
  const out = ['memory: RSS after full GC, whole process with network config, registry and live state'];
  out.push(
    '    sensors  base MB  config MB  registry MB  live state MB  process RSS MB  peak RSS MB  heap MB  bytes/sensor',
  );
  for (const r of rows)
    out.push(
      `  ${pad(r.sensors, 9)} ${pad(r.baseMb, 8)} ${pad(r.configMb, 10)} ${pad(r.registryMb, 12)} ${pad(r.liveStateMb, 14)} ${pad(r.totalRssMb, 15)} ${pad(r.peakRssMb, 12)} ${pad(r.heapUsedMb, 8)} ${pad(r.bytesPerSensor, 13)}`,
    );
  return out.join('\n');
}
