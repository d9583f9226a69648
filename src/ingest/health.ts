import type { ReadingStore } from '../storage/reading-store.ts';
import type { Ingestor } from './ingestor.ts';

/** What /api/health reports (src/http/ports.ts HealthReport), assembled from the live modules. */
export type IngestHealth = {
  status: 'ok' | 'degraded' | 'down';
  broker: { connected: boolean; detail?: string };
  store: { kind: string; reachable: boolean };
  spoolDepth: number;
  spool: { messages: number; readings: number; bytes: number; oldestAgeS: number; holding: boolean };
  configVersion: string;
};

export interface HealthSources {
  broker: () => { connected: boolean; detail?: string };
  store: ReadingStore;
  ingestor: Ingestor;
  journalStats: () => { depth: number; readings: number; bytes: number };
  configVersion: () => string;
  /** Bound on the store ping, so a hung store cannot hang the health route. */
  pingTimeoutMs: number;
}

/**
 * `down` when ingestion cannot take messages (broker disconnected, or holding because the spool is
 * over budget); `degraded` while the store is unreachable and readings are spooled; else `ok`.
 */
export function healthProvider(s: HealthSources): { health(): Promise<IngestHealth> } {
  return {
    async health() {
      const reachable = await withTimeout(s.store.ping(), s.pingTimeoutMs).catch(() => false);
      const broker = s.broker();
      const j = s.journalStats();
      const holding = s.ingestor.holding;
      const storeOk = reachable && s.ingestor.storeUp;
      const status = !broker.connected || holding ? 'down' : storeOk ? 'ok' : 'degraded';
      return {
        status,
        broker,
        store: { kind: s.store.kind, reachable: storeOk },
        spoolDepth: j.readings,
        spool: {
          messages: j.depth,
          readings: j.readings,
          bytes: j.bytes,
          oldestAgeS: Math.round(s.ingestor.spoolOldestAgeMs() / 1000),
          holding,
        },
        configVersion: s.configVersion(),
      };
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
