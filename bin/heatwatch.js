#!/usr/bin/env node
/**
 * `npx heatwatch <command>`: one entry point for the service, the simulator and the engineer tools.
 *
 *   npx heatwatch start [--speed N] [--config DIR]   the service (as `npm start`)
 *   npx heatwatch sim [options]                      the simulated network alone (as `npm run sim`)
 *   npx heatwatch twin --scenario FILE [options]     the rules judged on the digital twin (as `npm run twin`)
 *   npx heatwatch <tool> [options]                   check-config, dry-run, mosquitto-files, backup,
 *                                                    restore (as `npm run cli -- <tool>`)
 *
 * Plain JavaScript because Node cannot start a .ts file by itself: it registers tsx's loader in this
 * process, then imports the same TypeScript entry the npm scripts run, with process.argv shaped as if
 * that file had been started directly (`node <entry> <args>`), so each entry keeps parsing its own
 * arguments and nothing is compiled ahead. One process: signals reach the service directly.
 */
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

const entries = {
  start: '../src/main.ts',
  sim: '../firmware-sim/cli.ts',
  twin: '../firmware-sim/twin/cli.ts',
};
const [command, ...args] = process.argv.slice(2);

register();
if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
  // src/cli.ts prints the usage line and its tools synchronously on import; the two entries that
  // are not tools are listed after them, in the same columns.
  process.argv = [process.argv[0], fileURLToPath(new URL('../src/cli.ts', import.meta.url))];
  await import('../src/cli.ts');
  process.stderr.write(
    `  ${'start'.padEnd(15)}  run heatwatch: broker, store, simulator, API and dashboard (--speed N, --config DIR)\n` +
      `  ${'sim'.padEnd(15)}  run the simulated network alone against a broker (--help lists its options)\n` +
      `  ${'twin'.padEnd(15)}  run the rules, tickets and re-checks on the digital twin (--scenario FILE) beside the strategies they are judged against\n`,
  );
} else if (Object.hasOwn(entries, command)) {
  const entry = new URL(entries[command], import.meta.url);
  process.argv = [process.argv[0], fileURLToPath(entry), ...args];
  await import(entry.href);
} else {
  const entry = new URL('../src/cli.ts', import.meta.url);
  process.argv = [process.argv[0], fileURLToPath(entry), command, ...args];
  await import(entry.href);
}
