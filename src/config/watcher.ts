import { type FSWatcher, watch } from 'node:fs';
import type { Logger } from 'pino';
import { formatIssue, type HeatwatchConfig, RESTART_ONLY_KEYS, tryLoadConfig } from './loader.ts';

export interface ConfigChange {
  config: HeatwatchConfig;
  /** Dotted paths that differ, e.g. `rules.toleranceC`, `network.buildings[3].sensors`. */
  changed: string[];
  /** Changed paths that only take effect at the next start; they are not half-applied. */
  restartNeeded: string[];
}

/** Paths at which two plain values differ; arrays of different length are reported whole. */
export function diffPaths(a: unknown, b: unknown, prefix = ''): string[] {
  if (Object.is(a, b)) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return [prefix || '(root)'];
  if (Array.isArray(a) !== Array.isArray(b)) return [prefix || '(root)'];
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [prefix || '(root)'];
    return a.flatMap((v, i) => diffPaths(v, b[i], `${prefix}[${i}]`));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  return [...keys].flatMap((k) => diffPaths(ao[k], bo[k], prefix ? `${prefix}.${k}` : k));
}

/** What changed between two accepted configs, by file section. */
export function describeChange(prev: HeatwatchConfig, next: HeatwatchConfig): Omit<ConfigChange, 'config'> {
  const changed = [
    ...diffPaths(prev.service, next.service, 'service'),
    ...diffPaths(prev.network, next.network, 'network'),
    ...diffPaths(prev.rules, next.rules, 'rules'),
    ...diffPaths(prev.sim, next.sim, 'sim'),
    ...diffPaths(prev.users, next.users, 'users'),
  ];
  const restartNeeded = changed.filter((p) =>
    RESTART_ONLY_KEYS.some(
      (k) => p === `service.${k}` || p.startsWith(`service.${k}.`) || p.startsWith(`service.${k}[`),
    ),
  );
  return { changed, restartNeeded };
}

/**
 * Watches the config directory and reloads on change (docs/architecture.md decision 7). An edit that does not
 * validate is refused with every issue as `file: path: message`, and the last good config stays in
 * force; an accepted edit is handed to `onChange` with what changed.
 */
export class ConfigWatcher {
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;

  constructor(
    private current: HeatwatchConfig,
    private readonly env: Record<string, string | undefined>,
    private readonly log: Logger,
    private readonly onChange: (change: ConfigChange) => void,
    private readonly onReject: (issues: string[]) => void = () => {},
  ) {}

  get config(): HeatwatchConfig {
    return this.current;
  }

  start(): void {
    // Debouncing uses wall time on purpose: it waits for an editor to finish writing, which has
    // nothing to do with heating time.
    this.watcher = watch(this.current.dir, { persistent: false }, (_event, file) => {
      if (file && !/\.ya?ml$/.test(String(file))) return;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.reload(), this.current.service.reloadDebounceMs);
    });
    this.watcher.on('error', (err) => this.log.error({ err }, 'config watch failed; edits need a restart'));
  }

  stop(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }

  /** Re-reads the directory now; returns whether the new config was accepted. */
  reload(): boolean {
    const result = tryLoadConfig(this.current.dir, this.env);
    if (!result.ok) {
      const issues = result.issues.map(formatIssue);
      this.log.error({ issues }, 'config edit refused; the last good config stays in force');
      this.onReject(issues);
      return false;
    }
    if (result.config.version === this.current.version) return true;
    const change = describeChange(this.current, result.config);
    this.current = result.config;
    this.log.info(
      {
        version: result.config.version,
        changed: change.changed.slice(0, 50),
        restartNeeded: change.restartNeeded,
      },
      'config reloaded',
    );
    this.onChange({ config: result.config, ...change });
    return true;
  }
}
