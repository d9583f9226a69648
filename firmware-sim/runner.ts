/**
 * Runs the simulated network against an MQTT broker: advances the physics from the injected clock,
 * lets every sensor, substation meter and the weather feed publish when due (in time order, also at
 * high `--speed`), and applies the setpoints heatwatch sends back (closed loop).
 *
 * Connections: each sensor its own MQTT connection (username = sensor id, password derived from the
 * device key; retained status with a last will), or, for load tests, gateways that publish for many
 * sensors over one connection, still on each sensor's own topic (`devices.connection`).
 */
import mqtt from 'mqtt';
import type { TimerHandle } from '../src/core/clock.ts';
import type { Registry, RegistryIndex } from '../src/core/registry.ts';
import { type SensorFirmware as Firmware, SensorFirmware } from './device.ts';
import { EventQueue, type SimEvent } from './event-queue.ts';
import { clientOptions, endClient, type Link, waitConnected, withTimeout } from './mqtt-link.ts';
import { SimNetwork } from './physics.ts';
import type { SimRunnerOptions, SimStats } from './runner-types.ts';
import { parseSetpoint } from './setpoint.ts';
import { UplinkEncoder } from './uplink.ts';

// The schedule (event-queue.ts), the MQTT connections (mqtt-link.ts) and the setpoint contract
// (setpoint.ts) live beside the runner; importers keep importing them from here.
export type { SimRunnerOptions, SimStats } from './runner-types.ts';
export { parseSetpoint } from './setpoint.ts';

const isIndex = (r: Registry | RegistryIndex): r is RegistryIndex =>
  (r as RegistryIndex).registry !== undefined;

export class SimRunner {
  private net: SimNetwork | undefined;
  private sensors: Firmware[] = [];
  private uplinks: UplinkEncoder | undefined;
  private sensorLink: Link[] = [];
  private substationLinks = new Map<string, Link>();
  private substationIds: string[] = [];
  private weatherLink: Link | undefined;
  private links: Link[] = [];
  private events = new EventQueue();
  private order = 0;
  private timer: TimerHandle | undefined;
  private running = false;
  private readonly counters: Omit<SimStats, 'buffered' | 'bufferDropped' | 'connections' | 'connected'> = {
    messagesPublished: 0,
    readingsPublished: 0,
    duplicatesPublished: 0,
    malformedPublished: 0,
    outOfOrderPublished: 0,
    batchesPublished: 0,
    batchReadings: 0,
    substationMessages: 0,
    weatherMessages: 0,
    setpointsApplied: 0,
    setpointsRejected: 0,
    setpointsIgnored: 0,
    inFlight: 0,
    publishErrors: 0,
  };

  constructor(private readonly opts: SimRunnerOptions) {}

  /** The physics, for the demo's ground truth and tests (undefined before start). */
  get network(): SimNetwork | undefined {
    return this.net;
  }

  stats(): SimStats {
    let buffered = 0;
    let bufferDropped = 0;
    for (const s of this.sensors) {
      buffered += s.buffered;
      bufferDropped += s.droppedFromBuffer;
    }
    return {
      ...this.counters,
      buffered,
      bufferDropped,
      connections: this.links.length,
      connected: this.links.filter((l) => l.client.connected).length,
    };
  }

  /** Opens the connections and starts the schedule; does not wait for the broker (devices buffer). */
  async start(): Promise<void> {
    if (this.running) return;
    const { clock, scenario, log } = this.opts;
    const registry = isIndex(this.opts.registry) ? this.opts.registry.registry : this.opts.registry;
    const format = this.opts.format ?? 'native';
    if (format !== 'native')
      this.uplinks = new UplinkEncoder(format, registry.sensors, this.opts.uplinkTopicPrefix);
    const startMs = clock.now();
    this.net = new SimNetwork(registry, scenario, startMs);
    this.sensors = registry.sensors.map(
      (s) => new SensorFirmware(s.id, s.intervalS * 1000, scenario, startMs),
    );
    this.events = new EventQueue();
    for (let i = 0; i < this.sensors.length; i++)
      this.events.push({ due: this.sensors[i]!.nextDueMs, order: this.order++, kind: 'sensor', index: i });
    for (let i = 0; i < registry.substations.length; i++)
      this.events.push({ due: startMs, order: this.order++, kind: 'substation', index: i });
    this.events.push({ due: startMs, order: this.order++, kind: 'observation', index: 0 });
    this.events.push({ due: startMs, order: this.order++, kind: 'forecast', index: 0 });
    this.running = true;

    const mode = this.connectionMode(registry.sensors.length);
    if (mode === 'per-device') {
      this.sensorLink = this.sensors.map((s, i) => this.openLink(s.id, [i], true));
    } else {
      const per = scenario.devices.sensorsPerGateway;
      this.sensorLink = [];
      for (let g = 0; g * per < this.sensors.length; g++) {
        const members = [];
        for (let i = g * per; i < Math.min(this.sensors.length, (g + 1) * per); i++) members.push(i);
        const link = this.openLink(`sim-gateway-${g + 1}`, members, false);
        for (const i of members) this.sensorLink[i] = link;
      }
    }
    this.substationIds = registry.substations.map((s) => s.id);
    for (const id of this.substationIds) this.substationLinks.set(id, this.openSubstationLink(id));
    this.weatherLink = this.openLink(this.opts.weatherStation ?? 'city', [], false);

    // Give the connections a moment, so the first readings are not all store-and-forward batches;
    // a broker that is down does not hold the start (the firmware buffers until it is back).
    await waitConnected(this.links, scenario.devices.startWaitMs);
    this.timer = clock.setInterval(() => this.tick(), scenario.tickMs);
    log.info(
      {
        sensors: this.sensors.length,
        substations: registry.substations.length,
        buildings: registry.buildings.length,
        connections: this.links.length,
        mode,
        ...summariseFaults(this.net.faults()),
      },
      'simulator started',
    );
  }

  /** Stops the schedule, marks sensors offline (retained) and closes every connection. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    const offline = JSON.stringify({ online: false });
    const stopWaitMs = this.opts.scenario.devices.stopWaitMs;
    const closing = this.links.map(async (link) => {
      if (link.client.connected) {
        // Retained offline status, as the last will would say; bounded, since a gateway may carry
        // thousands of sensors and a stop must not hang on a slow broker.
        const statuses = Promise.all(
          link.sensors.map((i) =>
            link.client
              .publishAsync(this.topic('sensors', this.sensors[i]!.id, 'status'), offline, {
                qos: 1,
                retain: true,
              })
              .catch(() => undefined),
          ),
        );
        await withTimeout(statuses, stopWaitMs);
      }
      link.closing = true;
      await endClient(link.client, stopWaitMs);
    });
    await Promise.all(closing);
    this.links = [];
    this.substationLinks.clear();
    this.weatherLink = undefined;
    this.opts.log.info(this.stats(), 'simulator stopped');
  }

  /**
   * Cuts a sensor's connection as a power loss would: the socket closes without DISCONNECT, so the
   * broker publishes the sensor's last will; the client reconnects on its own afterwards.
   */
  cutConnection(sensorId: string): boolean {
    const i = this.sensors.findIndex((s) => s.id === sensorId);
    const link = i < 0 ? undefined : this.sensorLink[i];
    if (!link?.client.connected) return false;
    link.client.stream.destroy();
    return true;
  }

  /** Advances the physics to the clock and publishes everything that fell due, in time order. */
  tick(): void {
    const net = this.net;
    if (!this.running || !net) return;
    const now = this.opts.clock.now();
    const quantumMs = this.opts.scenario.physics.maxStepS * 1000;
    for (;;) {
      const ev = this.events.peek();
      if (!ev || ev.due > now) break;
      this.events.pop();
      // Physics moves in whole sub-steps: with 100 000 sensors reporting, stepping every unit for
      // every reading would cost far more than the minute of resolution it buys.
      const lagMs = ev.due - net.nowMs;
      if (lagMs >= quantumMs) net.step(Math.floor(lagMs / quantumMs) * quantumMs);
      this.handle(ev);
    }
    if (now - net.nowMs >= quantumMs) net.step(Math.floor((now - net.nowMs) / quantumMs) * quantumMs);
  }

  // ---------------------------------------------------------------------------------------------

  private handle(ev: SimEvent): void {
    const net = this.net!;
    const sc = this.opts.scenario;
    switch (ev.kind) {
      case 'sensor': {
        const fw = this.sensors[ev.index]!;
        const link = this.sensorLink[ev.index]!;
        const online = link.client.connected && !link.closing;
        const msgs = fw.report(ev.due, net.sensorTempC(fw.id), online);
        for (const m of msgs) this.publishSensor(link, fw.id, m);
        this.events.push({ due: fw.nextDueMs, order: this.order++, kind: 'sensor', index: ev.index });
        break;
      }
      case 'substation': {
        const id = this.substationIds[ev.index];
        const link = id === undefined ? undefined : this.substationLinks.get(id);
        if (id !== undefined && link?.client.connected) {
          const t = net.substationTelemetry(id);
          const payload = JSON.stringify({
            ts: ev.due,
            supplyTemp: round(t.supplyTempC, 2),
            returnTemp: round(t.returnTempC, 2),
            flow: round(t.flowM3h, 3),
            heat: round(t.heatKw, 1),
            valve: round(t.valvePct, 1),
            outdoorTemp: round(t.outdoorTempC, 1),
            supplyOffset: t.supplyOffsetC,
            setpointId: t.setpointId,
          });
          this.publish(link, this.topic('substations', id, 'telemetry'), payload, false);
          this.counters.substationMessages++;
        }
        this.events.push({
          due: ev.due + sc.substationIntervalS * 1000,
          order: this.order++,
          kind: ev.kind,
          index: ev.index,
        });
        break;
      }
      case 'observation': {
        const link = this.weatherLink;
        if (link?.client.connected) {
          const payload = JSON.stringify({ ts: ev.due, outdoorTemp: round(net.outdoorTempC(), 1) });
          this.publish(link, this.topic('weather', link.id, 'observation'), payload, false);
          this.counters.weatherMessages++;
        }
        this.events.push({
          due: ev.due + sc.observationIntervalS * 1000,
          order: this.order++,
          kind: ev.kind,
          index: 0,
        });
        break;
      }
      case 'forecast': {
        const link = this.weatherLink;
        if (link?.client.connected) {
          const fc = net.forecast();
          const payload = JSON.stringify({
            issued: ev.due,
            points: fc.points.map((p) => ({ ts: p.ts, outdoorTemp: p.outdoorTempC })),
          });
          // Retained: a subscriber that starts later still gets the forecast in force.
          this.publish(link, this.topic('weather', link.id, 'forecast'), payload, true);
          this.counters.weatherMessages++;
        }
        this.events.push({
          due: ev.due + sc.forecastIntervalS * 1000,
          order: this.order++,
          kind: ev.kind,
          index: 0,
        });
        break;
      }
    }
  }

  private publishSensor(link: Link, sensorId: string, m: ReturnType<Firmware['report']>[number]): void {
    const uplinks = this.uplinks?.encode(sensorId, m.payload);
    if (uplinks) for (const u of uplinks) this.publish(link, u.topic, u.payload, false);
    else this.publish(link, this.topic('sensors', sensorId, 'telemetry'), m.payload, false);
    switch (m.kind) {
      case 'reading':
        this.counters.readingsPublished += m.readings;
        break;
      case 'batch':
        this.counters.readingsPublished += m.readings;
        this.counters.batchesPublished++;
        this.counters.batchReadings += m.readings;
        break;
      case 'out_of_order':
        this.counters.readingsPublished += m.readings;
        this.counters.outOfOrderPublished += m.readings;
        break;
      case 'duplicate':
        this.counters.duplicatesPublished++;
        break;
      case 'malformed':
        this.counters.malformedPublished++;
        break;
    }
  }

  private publish(link: Link, topic: string, payload: string, retain: boolean): void {
    this.counters.messagesPublished++;
    this.counters.inFlight++;
    // QoS 1 (docs/architecture.md): mqtt.js keeps the packet until PUBACK and resends it after a reconnect.
    link.client.publish(topic, payload, { qos: 1, retain }, (err) => {
      this.counters.inFlight--;
      if (err) {
        this.counters.publishErrors++;
        this.opts.log.debug({ topic, err: err.message }, 'publish failed');
      }
    });
  }

  private connectionMode(sensors: number): 'per-device' | 'gateway' {
    const d = this.opts.scenario.devices;
    if (d.connection !== 'auto') return d.connection;
    return sensors <= d.perDeviceMaxSensors ? 'per-device' : 'gateway';
  }

  /** A connection for sensors (per device: with its last will) or for the weather feed. */
  private openLink(id: string, sensors: number[], will: boolean): Link {
    const client = mqtt.connect(
      this.opts.brokerUrl,
      clientOptions(this.opts, id, will, (k, i, l) => this.topic(k, i, l)),
    );
    const link: Link = { id, client, sensors, closing: false };
    client.on('connect', () => {
      if (link.closing) return;
      const now = this.opts.clock.now();
      for (const i of sensors) {
        const fw = this.sensors[i]!;
        // Retained status, so a dashboard started later knows who is online
        // (docs/architecture.md "The contract").
        this.publish(link, this.topic('sensors', fw.id, 'status'), fw.statusOnline(), true);
        if (fw.hasBacklog(now)) for (const m of fw.flush()) this.publishSensor(link, fw.id, m);
      }
    });
    client.on('error', (err) => this.opts.log.debug({ client: id, err: err.message }, 'mqtt error'));
    this.links.push(link);
    return link;
  }

  /** A substation meter: publishes telemetry and obeys `heat/substations/{id}/setpoint`. */
  private openSubstationLink(id: string): Link {
    const link = this.openLink(id, [], false);
    const setpointTopic = this.topic('substations', id, 'setpoint');
    link.client.on('connect', () => {
      link.client.subscribe(setpointTopic, { qos: 1 }, (err) => {
        if (err) this.opts.log.warn({ substation: id, err: err.message }, 'setpoint subscription failed');
      });
    });
    link.client.on('message', (topic, payload) => {
      if (topic !== setpointTopic) return;
      const sp = parseSetpoint(payload);
      if (!sp.ok) {
        this.counters.setpointsRejected++;
        this.opts.log.warn({ substation: id, reason: sp.reason }, 'setpoint refused');
        return;
      }
      const did = this.net?.receiveSetpoint(id, sp.value);
      if (did === 'ignored') this.counters.setpointsIgnored++;
      else this.counters.setpointsApplied++;
      this.opts.log.info({ substation: id, setpoint: sp.value, did }, 'setpoint received');
    });
    return link;
  }

  private topic(kind: string, id: string, leaf: string): string {
    return `${this.opts.topicRoot}/${kind}/${id}/${leaf}`;
  }
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** The scripted faults for the start-up log: the ids on a demo network, counts on a large one. */
function summariseFaults(f: { underSupplied: string[]; unbalanced: string[] }): Record<string, unknown> {
  const few = f.underSupplied.length + f.unbalanced.length <= 40;
  return few
    ? { underSupplied: f.underSupplied, unbalanced: f.unbalanced }
    : { underSuppliedCount: f.underSupplied.length, unbalancedCount: f.unbalanced.length };
}
