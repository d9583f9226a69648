/**
 * The SQLite reading store's writer thread (sqlite-writer.ts `workerWriter`): its own connection to
 * the store's file, one transaction per request, answers in request order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from './sqlite.ts';
import { readingStoreMigrations } from './sqlite-store.ts';
import {
  prepareWrites,
  type WorkerWriterOptions,
  type WriteAnswer,
  type WriteRequest,
} from './sqlite-writer.ts';

const opts = workerData as WorkerWriterOptions;
const db = openDb(opts.file, {
  synchronous: opts.synchronous,
  migrations: readingStoreMigrations,
  busyTimeoutMs: opts.busyTimeoutMs,
});
const w = prepareWrites(db);

parentPort?.on('message', (req: WriteRequest) => {
  let answer: WriteAnswer;
  try {
    if (req.op === 'room') w.room(req.rows);
    else if (req.op === 'substation') w.substation(req.rows);
    answer = { id: req.id, changes: req.op === 'prune' ? w.prune(req.table, req.cutoffMs, req.limit) : 0 };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    answer = {
      id: req.id,
      error: err instanceof Error ? err.message : String(err),
      code: typeof code === 'string' ? code : undefined,
    };
  }
  parentPort?.postMessage(answer);
});
