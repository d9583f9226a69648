/**
 * `npm run bench [-- <scenario>]`: runs the default scenarios in turn (or those named), prints figures
 * and writes them to bench/results/<scenario>.json with the machine they ran on. Each scenario is
 * bounded and the whole suite stays under ten minutes; adding one is adding a row.
 *
 *   npm run bench                     the default scenarios (those not marked onDemand)
 *   npm run bench -- --help           the scenarios, which run by default, and the options
 *   npm run bench -- latency          one scenario
 *   npm run bench -- latency --cpu-prof DIR   the same, with a CPU profile of each heatwatch process
 *   npm run bench -- ingest --count N the journal comparison (bench/ingest.ts), only when named
 *   npm run bench -- ingest --format chirpstack|tts|all  the same with network-server uplinks beside
 *   npm run bench -- decode           decoder cost per message: native vs uplink adapters
 *   npm run bench -- twin [--seeds 1,2,3] [--days N]  the digital twin's strategies, only when named
 *   npm run bench -- twin --vary [--seed-shift 3] [--spread 0.2]  the same against shifted seeds and ranges
 *   npm run bench -- failover [--runs 5]  a rules instance SIGKILLed, the standby's takeover (PostgreSQL)
 *   npm run bench -- tickets-pg [--sizes 1000,10000] [--concurrency 8] [--pool 10]  the ticket path of a
 *                                     city on PostgreSQL, two instances; only when named (needs the server)
 */

import { readFileSync } from 'node:fs';
import { benchFormats, formatIngestBench, runIngestBench } from './ingest.ts';
import { writeResult } from './lib.ts';
import { formatDecodeBench, runDecodeBench } from './scenarios/decode.ts';
import { formatFailover, runFailover } from './scenarios/failover.ts';
import { formatInflux, runInflux } from './scenarios/influx.ts';
import { formatCeiling, runIngestCeiling } from './scenarios/ingest-ceiling.ts';
import { formatLatency, runLatency } from './scenarios/latency.ts';
import { formatMemory, runMemory } from './scenarios/memory.ts';
import { formatPeer, runPeer } from './scenarios/peer.ts';
import { formatRules, RULES_CASES, runRules } from './scenarios/rules.ts';
import { formatSimulator, runSimulator } from './scenarios/simulator.ts';
import { formatTicketsPg, runTicketsPg } from './scenarios/tickets-pg.ts';
import { formatTwinBench, runTwinBench } from './scenarios/twin.ts';
import { formatTwinVary, runTwinVary, type TwinVaryFigures } from './scenarios/twin-vary.ts';

const listArg = (name: string): string[] => {
  const i = process.argv.indexOf(name);
  return i > 0
    ? String(process.argv[i + 1])
        .split(',')
        .filter(Boolean)
    : [];
};
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

/** `--cpu-prof DIR`: ingest-ceiling and latency profile each heatwatch process into DIR. */
const cpuProfArg = (): string | undefined =>
  process.argv.includes('--cpu-prof')
    ? String(process.argv[process.argv.indexOf('--cpu-prof') + 1])
    : undefined;

interface Scenario {
  name: string;
  /** Only when named: not part of the default run. */
  onDemand?: boolean;
  run: () => Promise<{ figures: unknown; text: string }>;
}
const as = <T>(figures: T, format: (f: T) => string) => ({ figures, text: format(figures) });

const SCENARIOS: Scenario[] = [
  {
    name: 'ingest-ceiling',
    run: async () =>
      as(
        await runIngestCeiling({
          singles: arg('--count', 60_000),
          arrays: arg('--count', 60_000) * 2,
          perArray: 10,
          cpuProfDir: cpuProfArg(),
        }),
        formatCeiling,
      ),
  },
  {
    name: 'influx',
    run: async () => as(await runInflux({ readings: arg('--count', 60_000) }), formatInflux),
  },
  { name: 'peer', run: async () => as(await runPeer({ readings: arg('--count', 30_000) }), formatPeer) },
  {
    name: 'latency',
    run: async () =>
      as(
        await runLatency({
          rates: [1000, 5000],
          seconds: 10,
          batchSize: process.argv.includes('--batch-size') ? arg('--batch-size', 1000) : undefined,
          cpuProfDir: cpuProfArg(),
        }),
        formatLatency,
      ),
  },
  {
    name: 'rules',
    run: async () =>
      as(
        await runRules({
          cases: RULES_CASES([1000, 10_000, 100_000]),
          ticks: 3,
          sensorsPerBuilding: arg('--sensors-per-building', 12),
        }),
        formatRules,
      ),
  },
  { name: 'memory', run: async () => as(await runMemory({ sizes: [100_000, 1_000_000] }), formatMemory) },
  {
    name: 'simulator',
    run: async () => as(await runSimulator({ sensors: 100_000, windowS: 30 }), formatSimulator),
  },
  {
    name: 'twin',
    // Minutes of CPU: run by name; it writes its own section of BENCHMARKS.md.
    onDemand: true,
    run: async () => {
      const seeds = (
        process.argv.includes('--seeds') ? String(process.argv[process.argv.indexOf('--seeds') + 1]) : '1,2,3'
      )
        .split(',')
        .map(Number);
      const days = process.argv.includes('--days') ? arg('--days', 30) : undefined;
      if (process.argv.includes('--vary'))
        return as(
          await runTwinVary({
            seeds,
            days,
            seedShift: arg('--seed-shift', 3),
            spread: arg('--spread', 0.2),
            only: listArg('--scenario'),
            merge: listArg('--merge').map(
              (f) => (JSON.parse(readFileSync(f, 'utf8')) as { figures: TwinVaryFigures }).figures,
            ),
          }),
          formatTwinVary,
        );
      return as(await runTwinBench({ seeds, days }), formatTwinBench);
    },
  },
  {
    name: 'decode',
    // Seconds; run by name beside `ingest --format`, to see what an uplink adapter costs per message.
    onDemand: true,
    run: async () => as(runDecodeBench({ messages: arg('--count', 200_000) }), formatDecodeBench),
  },
  {
    name: 'failover',
    // Needs the machine's PostgreSQL, and each run waits out a whole lease (10 s with the defaults).
    onDemand: true,
    run: async () => as(await runFailover({ runs: arg('--runs', 5) }), formatFailover),
  },
  {
    name: 'tickets-pg',
    // Needs the machine's PostgreSQL; about half a minute for 1 000 and 10 000 substations.
    onDemand: true,
    run: async () =>
      as(
        await runTicketsPg({
          sizes: (listArg('--sizes').length ? listArg('--sizes') : ['1000', '10000']).map(Number),
          concurrency: arg('--concurrency', 8),
          poolSize: arg('--pool', 10),
        }),
        formatTicketsPg,
      ),
  },
  {
    name: 'ingest',
    onDemand: true,
    run: async () =>
      as(await runIngestBench(arg('--count', 50_000), benchFormats(process.argv)), formatIngestBench),
  },
];

/**
 * Every option some scenario above reads (all of them read process.argv here or through
 * benchFormats), so one not in this list is a typo that would otherwise run with the defaults.
 */
const OPTIONS = [
  '--count',
  '--cpu-prof',
  '--batch-size',
  '--sensors-per-building',
  '--seeds',
  '--days',
  '--vary',
  '--seed-shift',
  '--spread',
  '--scenario',
  '--merge',
  '--runs',
  '--sizes',
  '--concurrency',
  '--pool',
  '--format',
];
const usage = (): string => {
  const scenarios = SCENARIOS.map((s) => `  ${s.name}${s.onDemand ? '  (only when named)' : ''}`);
  return [
    'usage: npm run bench [-- <scenario>...] [options]',
    '',
    'scenarios (none named: the default ones in turn):',
    ...scenarios,
    '',
    'options (which scenario reads each: the comment at the top of bench/run.ts):',
    `  ${OPTIONS.join(' ')}`,
    '',
  ].join('\n');
};

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(usage());
  process.exit(0);
}
const badOption = argv.find((a) => a.startsWith('--') && !OPTIONS.includes(a));
if (badOption !== undefined) {
  process.stderr.write(`unknown option ${badOption}\n${usage()}`);
  process.exit(2);
}
const named = argv.filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
const unknown = named.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown scenario ${unknown.join(', ')}; one of: ${SCENARIOS.map((s) => s.name).join(', ')}\n`,
  );
  process.exit(2);
}
const suiteStart = performance.now();
let failed = 0;
for (const s of SCENARIOS) {
  if (named.length > 0 ? !named.includes(s.name) : s.onDemand) continue;
  const t0 = performance.now();
  try {
    const r = await s.run();
    const file = writeResult(s.name, r.figures);
    process.stdout.write(`${r.text}\n  (${Math.round((performance.now() - t0) / 1000)} s, ${file})\n\n`);
  } catch (err) {
    failed++;
    process.stdout.write(`${s.name}: FAILED — ${err instanceof Error ? err.message : String(err)}\n\n`);
  }
}
process.stdout.write(`bench: done in ${Math.round((performance.now() - suiteStart) / 1000)} s\n`);
process.exitCode = failed > 0 ? 1 : 0;
