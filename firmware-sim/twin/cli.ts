/**
 * `npm run twin -- --scenario FILE` (or `npx heatwatch twin …`) [--days N] [--seed S] [--strategy NAME|all] [--json]`: heatwatch's rules,
 * tickets and re-checks run direct-coupled on the digital twin (firmware-sim/twin/), beside the
 * strategies they are judged against; prints a table, or one JSON object per strategy.
 */
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, formatIssue } from '../../src/config/loader.ts';
import { jsonOf, TABLE_HEAD, TABLE_RULE, tableRow } from './report.ts';
import { loadRules, runTwin } from './run.ts';
import { loadScenario, ScenarioError } from './scenario.ts';
import { STRATEGIES, type StrategyName } from './strategies.ts';

const USAGE =
  'usage: heatwatch twin --scenario FILE [--days N] [--seed S] [--strategy acting|watching|raise-all|coldest-flat|all] [--json]\n';

export async function run(args: string[]): Promise<number> {
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const file = opt('--scenario');
  const strategyArg = opt('--strategy') ?? 'all';
  const seed = Number(opt('--seed') ?? 1);
  const days = opt('--days') === undefined ? undefined : Number(opt('--days'));
  const bad =
    !file ||
    !Number.isInteger(seed) ||
    (days !== undefined && !(Number.isInteger(days) && days > 0)) ||
    (strategyArg !== 'all' && !STRATEGIES.includes(strategyArg as StrategyName));
  if (bad) {
    process.stderr.write(USAGE);
    return 2;
  }
  let scenario: ReturnType<typeof loadScenario>;
  let rules: ReturnType<typeof loadRules>;
  try {
    scenario = loadScenario(file);
    rules = loadRules();
  } catch (err) {
    // Each problem on its own line as file: path: message, as check-config prints them.
    if (err instanceof ScenarioError || err instanceof ConfigError)
      for (const i of err.issues) process.stderr.write(`${formatIssue(i)}\n`);
    else throw err;
    return 1;
  }
  const names = strategyArg === 'all' ? [...STRATEGIES] : [strategyArg as StrategyName];
  const json = args.includes('--json');
  if (!json) process.stdout.write(`${scenario.description}\n\n${TABLE_HEAD}\n${TABLE_RULE}\n`);
  for (const strategy of names) {
    const r = await runTwin(scenario, { scenarioName: basename(file, '.yaml'), seed, days, strategy, rules });
    process.stdout.write(json ? `${JSON.stringify(jsonOf(r))}\n` : `${tableRow(r)}\n`);
  }
  return 0;
}

// Started directly (npm run twin, npx heatwatch twin): run with the process's arguments.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href)
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`heatwatch twin: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
