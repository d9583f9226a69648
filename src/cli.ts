/**
 * `npm run cli -- <command> [options]`: the engineer's tools beside the running service.
 * Each command lives in src/cli/<name>.ts and exports `run(args: string[]): Promise<number>`
 * (the exit code); this file only dispatches, so adding a command is adding a row.
 */
const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> }
> = {
  'check-config': {
    summary: 'validate a config directory and print every problem as file: path: message',
    load: () => import('./cli/check-config.ts'),
  },
  'dry-run': {
    summary:
      'replay stored readings (--from --to) through rules (--rules file.yaml) and list the tickets raised',
    load: () => import('./cli/dry-run.ts'),
  },
  'mosquitto-files': {
    summary: 'write a Mosquitto password file and ACL from the registry and device key',
    load: () => import('./cli/mosquitto-files.ts'),
  },
  backup: {
    summary: 'copy every SQLite database into a checked backup set while heatwatch runs (online)',
    load: () => import('./cli/backup.ts'),
  },
  restore: {
    summary: 'put a backup set back into the data directory (heatwatch stopped)',
    load: () => import('./cli/restore.ts'),
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const cmd = name ? COMMANDS[name] : undefined;
  if (!cmd) {
    const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
    process.stderr.write(
      `usage: heatwatch <command> [options]\n\ncommands:\n${Object.entries(COMMANDS)
        .map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`)
        .join('\n')}\n`,
    );
    return name && name !== '--help' && name !== '-h' && name !== 'help' ? 2 : 0;
  }
  return (await cmd.load()).run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`heatwatch: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
