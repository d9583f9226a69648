import type { Logger } from '../core/log.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type SetLevelResult =
  | { ok: true; level: LogLevel; module: string | undefined; loggers: number }
  | { ok: false; reason: string };

/**
 * Changes log levels while heatwatch runs: from the engineer API, on a reload of `logLevel`, or by
 * SIGUSR2 (which toggles between the configured level and `debug`, for an operator on the host).
 *
 * pino child loggers take their level once, when created, and do not follow their parent later; so
 * this control registers every child created after `attach()` (pino's `onChild` hook, inherited by
 * grandchildren) and sets the level on each. Call `attach()` right after creating the root logger,
 * before any module takes its child. Children are held weakly: a dropped logger is not kept alive.
 */
export class LogLevelControl {
  private readonly children = new Set<WeakRef<Logger>>();
  private configured: LogLevel;
  private signalHandler: (() => void) | undefined;

  constructor(
    private readonly root: Logger,
    configuredLevel: LogLevel,
  ) {
    this.configured = configuredLevel;
  }

  attach(): void {
    const previous = this.root.onChild;
    this.root.onChild = (child) => {
      this.children.add(new WeakRef(child));
      previous.call(this.root, child);
    };
  }

  /** Installs the SIGUSR2 toggle. */
  start(signal: NodeJS.Signals = 'SIGUSR2'): void {
    if (this.signalHandler) return;
    this.signalHandler = () => {
      const next = this.root.level === 'debug' ? this.configured : 'debug';
      this.setLogLevel(next);
      this.root.warn({ level: next, signal }, 'log level changed by signal');
    };
    process.on(signal, this.signalHandler);
  }

  stop(signal: NodeJS.Signals = 'SIGUSR2'): void {
    if (this.signalHandler) process.off(signal, this.signalHandler);
    this.signalHandler = undefined;
  }

  /** The level the config file asks for; a config reload calls this, then `setLogLevel`. */
  setConfiguredLevel(level: LogLevel): void {
    this.configured = level;
  }

  /**
   * Sets the level of every logger, or only of the children bound to `module` (e.g. `ingest`). Bad
   * input is answered, never thrown: this is called with what an engineer typed.
   */
  setLogLevel(level: string, module?: string): SetLevelResult {
    if (!(LOG_LEVELS as readonly string[]).includes(level))
      return { ok: false, reason: `unknown log level '${level}': expected one of ${LOG_LEVELS.join(', ')}` };
    const lv = level as LogLevel;
    let n = 0;
    if (module === undefined) {
      this.root.level = lv;
      n++;
    }
    for (const ref of this.children) {
      const child = ref.deref();
      if (!child) {
        this.children.delete(ref);
        continue;
      }
      if (module !== undefined && child.bindings().module !== module) continue;
      child.level = lv;
      n++;
    }
    if (module !== undefined && n === 0) return { ok: false, reason: `no logger for module '${module}'` };
    return { ok: true, level: lv, module, loggers: n };
  }

  /** Current level per module (children without a module binding are counted under the root). */
  levels(): Record<string, string> {
    const out: Record<string, string> = { root: this.root.level };
    for (const ref of this.children) {
      const child = ref.deref();
      const module = child?.bindings().module;
      if (child && typeof module === 'string') out[module] = child.level;
    }
    return out;
  }
}
