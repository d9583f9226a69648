/**
 * `npm run bench`: runs every benchmark in turn and prints its figures. Each benchmark module exports
 * a run function and a formatter; adding one is adding a row.
 */
import { formatIngestBench, runIngestBench } from './ingest.ts';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

const BENCHES: Array<{ name: string; run: () => Promise<string> }> = [
  { name: 'ingest', run: async () => formatIngestBench(await runIngestBench(arg('--count', 50_000))) },
];

const only = process.argv.find((a) => !a.startsWith('--') && BENCHES.some((b) => b.name === a));
for (const b of BENCHES) {
  if (only && b.name !== only) continue;
  process.stdout.write(`${await b.run()}\n`);
}
