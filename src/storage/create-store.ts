import { isAbsolute, join } from 'node:path';
import type { Secrets } from '../config/loader.ts';
import type { ServiceConfig } from '../config/service-schema.ts';
import type { Clock } from '../core/clock.ts';
import { Errors } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { InfluxReadingStore } from './influx-store.ts';
import type { ReadingStore } from './reading-store.ts';
import { SqliteReadingStore } from './sqlite-store.ts';

/**
 * Builds the reading store the config asks for (docs/architecture.md decision 2). Nothing is opened here; the
 * caller starts it. The SQLite file is relative to `dataDir` (HEATWATCH_DATA_DIR) unless absolute.
 */
export function createReadingStore(
  config: ServiceConfig,
  secrets: Secrets,
  clock: Clock,
  log: Logger,
): ReadingStore {
  const storeLog = log.child({ module: 'reading-store' });
  const { store } = config;
  if (store.kind === 'influxdb') {
    const { url } = store.influxdb;
    if (!url) throw Errors.config('store.kind is influxdb but store.influxdb.url is not set');
    return new InfluxReadingStore(
      {
        url,
        token: secrets.influxToken ?? store.influxdb.token,
        org: store.influxdb.org,
        bucket: store.influxdb.bucket,
        timeoutMs: store.influxdb.timeoutMs,
        writeBatchLines: store.influxdb.writeBatchLines,
        writeBatchBytes: store.influxdb.writeBatchBytes,
        gzipThresholdBytes: store.influxdb.gzipThresholdBytes,
      },
      storeLog,
    );
  }
  const { file } = store.sqlite;
  return new SqliteReadingStore(
    {
      file: file === ':memory:' || isAbsolute(file) ? file : join(config.dataDir, file),
      retentionDays: store.sqlite.retentionDays,
      pruneIntervalMs: store.sqlite.pruneIntervalMs,
      pruneChunkRows: store.sqlite.pruneChunkRows,
      synchronous: store.sqlite.synchronous,
      busyTimeoutMs: store.sqlite.busyTimeoutMs,
      writeInWorker: store.sqlite.writeInWorker,
    },
    clock,
    storeLog,
  );
}
