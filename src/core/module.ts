import type { Logger } from './log.ts';

/**
 * One part of heatwatch with a lifecycle (docs/architecture.md "Modules and their ports"): its
 * constructor only assigns; `start()` takes timers, sockets and subscriptions, `stop()` gives them
 * back; `onConfig` applies a reloaded config that validated (keys marked (restart) are not its
 * business: the watcher reports them).
 */
export interface Module<C = unknown> {
  readonly name: string;
  start?(): Promise<void> | void;
  /** Absent for a module that holds nothing to give back (one that only applies config). */
  stop?(): Promise<void> | void;
  onConfig?(next: C, prev: C): Promise<void> | void;
}

/**
 * Modules started in order and stopped in reverse. `start(m)` starts one module and remembers it;
 * when a start throws, every module already started is stopped, newest first, and the error is
 * rethrown — so a failed start leaves no socket, timer or open database behind. A stop or an
 * onConfig that throws is logged with the module's name and does not keep the others from theirs.
 */
export class ModuleList<C = unknown> {
  private readonly started: Module<C>[] = [];

  constructor(private readonly log: Logger) {}

  /** Names of the started modules, in start order. */
  get names(): string[] {
    return this.started.map((m) => m.name);
  }

  /** Starts `m` (if it has a start) and adds it to the list; on failure stops the rest and rethrows. */
  async start<M extends Module<C>>(m: M): Promise<M> {
    try {
      await m.start?.();
    } catch (err) {
      this.log.error({ err, module: m.name }, 'start failed; stopping the modules already started');
      await this.stopAll();
      throw err;
    }
    this.started.push(m);
    return m;
  }

  /** Adds something already running (opened by its constructor), so it is stopped in its turn. */
  add<M extends Module<C>>(m: M): M {
    this.started.push(m);
    return m;
  }

  /** Stops every started module, newest first; each failure is logged and the rest still stop. */
  async stopAll(): Promise<void> {
    while (this.started.length > 0) {
      const m = this.started.pop()!;
      try {
        await m.stop?.();
      } catch (err) {
        this.log.error({ err, module: m.name }, 'stop failed');
      }
    }
  }

  /** Hands a validated config to every module that takes one, in start order. */
  async onConfig(next: C, prev: C): Promise<void> {
    for (const m of this.started) {
      if (!m.onConfig) continue;
      try {
        await m.onConfig(next, prev);
      } catch (err) {
        this.log.error({ err, module: m.name }, 'config not applied');
      }
    }
  }
}
