import { type ChildProcess, spawn } from 'node:child_process';
import type { LeaseTimings } from '../../src/ops/lease-keeper.ts';

export interface RulesChildOptions {
  /** A config directory with `ops.kind: postgres` (test/main/support.ts `postgresConfig`). */
  configDir: string;
  dataDir: string;
  /** PostgreSQL URL (HEATWATCH_PG_URL), with the test's schema as search_path. */
  url: string;
  instanceId: string;
  /** partition.leases timings; default: config/heatwatch.yaml's. */
  leases?: Partial<LeaseTimings>;
  /** rules.yaml `recheck` keys; default: config/rules.yaml's. */
  recheck?: { pollS?: number; claimS?: number };
}

export interface RulesProcess {
  child: ChildProcess;
  /** Every stdout line so far (test/support/rules-child.ts lists them). */
  lines: string[];
  /** Resolves once `pred` holds for the lines; rejects if the process exits first. */
  until(pred: (lines: string[]) => boolean): Promise<void>;
  /** Called for each new line, in the same turn it is read (before anything else reaches the test). */
  onLine(fn: (line: string) => void): void;
  exited: Promise<NodeJS.Signals | number | null>;
  stderr(): string;
  /** Lines starting with `word `, without it. */
  words(word: string): string[];
}

/** A city's rules instance as a child process (test/support/rules-child.ts), and waits on its lines. */
export function spawnRulesInstance(o: RulesChildOptions): RulesProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/support/rules-child.ts', JSON.stringify(o)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const listeners: Array<(line: string) => void> = [];
  let err = '';
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    for (const line of parts.filter(Boolean)) {
      lines.push(line);
      for (const fn of listeners) fn(line);
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((r) =>
    child.on('exit', (code, signal) => {
      r(signal ?? code);
      for (const w of waiters.splice(0)) w();
    }),
  );
  const until = async (pred: (ls: string[]) => boolean): Promise<void> => {
    while (!pred(lines)) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${o.instanceId} exited (${child.exitCode ?? child.signalCode}): ${err}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const words = (word: string) =>
    lines.filter((l) => l.startsWith(`${word} `)).map((l) => l.slice(word.length + 1));
  return {
    child,
    lines,
    until,
    onLine: (fn) => listeners.push(fn),
    exited,
    stderr: () => err,
    words,
  };
}
