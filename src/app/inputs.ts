import { loadSimulator, type SimulatorFactory } from '../sim/port.ts';
import type { LiveState } from '../state/live-state.ts';
import { ForecastFeed, forecastFeedSettings } from '../weather/forecast-feed.ts';
import type { BrokerAccess } from './broker.ts';
import type { AppContext } from './context.ts';

/**
 * Simulator of the demo network (sim.enabled, not ingestOnly): publishes through the same broker as
 * real devices, with the same credentials and ACL; started before the rules so their first tick
 * sees readings, not a network that looks silent.
 * `factory`: default the one of the module `sim.adapter` names.
 */
export async function startSimulator(
  ctx: AppContext,
  broker: BrokerAccess,
  factory?: SimulatorFactory,
): Promise<void> {
  const { config, svc } = ctx;
  if (!svc.sim.enabled || ctx.ingestOnly) return;
  const createSimulator = factory ?? (await loadSimulator(svc.sim.adapter));
  const sim = createSimulator({
    registry: config.registry,
    scenario: config.sim,
    clock: ctx.clock,
    brokerUrl: broker.mqttUrl,
    deviceKey: broker.deviceKey,
    topicRoot: svc.mqtt.topicRoot,
    log: ctx.log.child({ module: 'sim' }),
    weatherStation: config.network.weatherStation,
  });
  await sim.start();
  ctx.modules.add({ name: 'simulator', stop: () => sim.stop() });
}

/**
 * Forecast feed (weather.forecast.enabled): an hourly forecast over HTTP into the live state, an
 * input like the broker's (so also in ingestOnly); forecasts over MQTT work beside it.
 */
export function startForecastFeed(ctx: AppContext, live: LiveState): void {
  const { svc } = ctx;
  if (!svc.weather.forecast.enabled) return;
  const feed = new ForecastFeed({
    settings: forecastFeedSettings(svc.weather.forecast),
    stationId: ctx.config.network.weatherStation,
    live,
    bus: ctx.bus,
    metrics: ctx.metrics,
    clock: ctx.clock,
    log: ctx.log.child({ module: 'forecast' }),
  });
  feed.start();
  ctx.modules.add({ name: 'forecast-feed', stop: () => feed.stop() });
}
