/** What the simulator runner (firmware-sim/runner.ts) is started with, and what it counts. */
import type { SimConfig } from '../src/config/sim-schema.ts';
import type { Clock } from '../src/core/clock.ts';
import type { Logger } from '../src/core/log.ts';
import type { Registry, RegistryIndex } from '../src/core/registry.ts';
import type { SimFormat } from './uplink.ts';

export interface SimRunnerOptions {
  /** The network to simulate (the same registry heatwatch watches). */
  registry: Registry | RegistryIndex;
  scenario: SimConfig;
  clock: Clock;
  brokerUrl: string;
  /** Group key for device passwords (HEATWATCH_DEVICE_KEY); absent: connect without credentials. */
  deviceKey?: string;
  /** Topic root, `heat` by default in heatwatch.yaml. */
  topicRoot: string;
  log: Logger;
  /** network.yaml `weatherStation`. */
  weatherStation?: string;
  /**
   * Appended to every MQTT client id as `{id}-{suffix}` (the broker accepts a device's own id with a
   * dash suffix), so two simulators can share a broker, e.g. parallel tests on one Mosquitto.
   */
  clientIdSuffix?: string;
  /** Publish room readings as LoRaWAN network-server uplinks (sensors with a devEui); default native. */
  format?: SimFormat;
  /** Before the uplink topics, so tests sharing a broker stay apart. */
  uplinkTopicPrefix?: string;
}

/** What the simulator has put on the wire; tests compare it with what a subscriber received. */
export interface SimStats {
  /** MQTT publishes accepted by the client library (every kind). */
  messagesPublished: number;
  /** Valid room readings published, counting each member of an array once (duplicates excluded). */
  readingsPublished: number;
  /** Extra copies sent by the duplicate fault. */
  duplicatesPublished: number;
  /** Messages deliberately malformed by the fault injection. */
  malformedPublished: number;
  /** Readings sent after a later one of the same sensor. */
  outOfOrderPublished: number;
  /** Store-and-forward array messages, and the readings they carried. */
  batchesPublished: number;
  batchReadings: number;
  /** Readings waiting in sensors' buffers right now, and those lost to full buffers. */
  buffered: number;
  bufferDropped: number;
  substationMessages: number;
  weatherMessages: number;
  setpointsApplied: number;
  setpointsRejected: number;
  /** Setpoints a controller told to ignore commands (config `controller.ignoring`) dropped. */
  setpointsIgnored: number;
  /** QoS 1 publishes not yet acknowledged by the broker. */
  inFlight: number;
  publishErrors: number;
  connections: number;
  connected: number;
}
