import { ConfigWatcher } from '../config/watcher.ts';
import type { AppContext } from './context.ts';

/**
 * Config reload: registry, ingestion limits and staleness apply at once; keys marked (restart) are
 * reported, not half-applied (docs/architecture.md decision 7). Each edit that validated goes to
 * every module's onConfig in start order, then `configReloaded` says it was applied.
 * `watch: false` (tests) leaves the watcher unstarted: `watcher.config` stays the loaded config.
 */
export function startConfigWatcher(ctx: AppContext, watch: boolean): ConfigWatcher {
  const { bus, modules } = ctx;
  let inForce = ctx.config;
  const watcher = new ConfigWatcher(
    ctx.config,
    ctx.env,
    ctx.log.child({ module: 'config' }),
    (change) => {
      const prev = inForce;
      inForce = change.config;
      void modules.onConfig(change.config, prev).then(() =>
        bus.emit('configReloaded', {
          version: change.config.version,
          changed: change.changed,
          restartNeeded: change.restartNeeded,
        }),
      );
    },
    (issues) => bus.emit('configRejected', { issues }),
  );
  if (watch) {
    watcher.start();
    modules.add({ name: 'config-watcher', stop: () => watcher.stop() });
  }
  return watcher;
}
