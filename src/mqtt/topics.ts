/**
 * The contract topics (docs/architecture.md "The contract") under a configurable root, both ways:
 * a topic string → what it carries and whose it is, and the subscriptions ingestion needs.
 */
export type TopicKind =
  | 'sensorTelemetry'
  | 'sensorStatus'
  | 'substationTelemetry'
  | 'substationSetpoint'
  | 'weatherObservation'
  | 'weatherForecast';

export interface ParsedTopic {
  kind: TopicKind;
  /** The sensor, substation or weather-station id from the topic. */
  id: string;
}

/** Ids in topics: the same characters the registry allows, so a topic id can never smuggle a level. */
const ID = /^[A-Za-z0-9_-]{1,64}$/;

const TABLE: ReadonlyArray<{ collection: string; leaf: string; kind: TopicKind }> = [
  { collection: 'sensors', leaf: 'telemetry', kind: 'sensorTelemetry' },
  { collection: 'sensors', leaf: 'status', kind: 'sensorStatus' },
  { collection: 'substations', leaf: 'telemetry', kind: 'substationTelemetry' },
  { collection: 'substations', leaf: 'setpoint', kind: 'substationSetpoint' },
  { collection: 'weather', leaf: 'observation', kind: 'weatherObservation' },
  { collection: 'weather', leaf: 'forecast', kind: 'weatherForecast' },
];

export class Topics {
  private readonly prefix: string;
  private readonly byPair = new Map<string, TopicKind>();

  constructor(readonly root: string) {
    this.prefix = `${root}/`;
    for (const row of TABLE) this.byPair.set(`${row.collection}/${row.leaf}`, row.kind);
  }

  /** `undefined` for anything outside the contract (the decoder rejects it as `bad_topic`). */
  parse(topic: string): ParsedTopic | undefined {
    if (!topic.startsWith(this.prefix)) return undefined;
    const rest = topic.slice(this.prefix.length).split('/');
    if (rest.length !== 3) return undefined;
    const [collection, id, leaf] = rest as [string, string, string];
    const kind = this.byPair.get(`${collection}/${leaf}`);
    if (!kind || !ID.test(id)) return undefined;
    return { kind, id };
  }

  sensorTelemetry(id: string): string {
    return `${this.root}/sensors/${id}/telemetry`;
  }
  sensorStatus(id: string): string {
    return `${this.root}/sensors/${id}/status`;
  }
  substationTelemetry(id: string): string {
    return `${this.root}/substations/${id}/telemetry`;
  }
  setpoint(substationId: string): string {
    return `${this.root}/substations/${substationId}/setpoint`;
  }
  weatherObservation(stationId: string): string {
    return `${this.root}/weather/${stationId}/observation`;
  }
  weatherForecast(stationId: string): string {
    return `${this.root}/weather/${stationId}/forecast`;
  }

  /**
   * What ingestion subscribes to. With a shared group, several heatwatch instances split the stream
   * (MQTT 5 §4.8.2 `$share/{group}/{filter}`); the setpoint topic is heatwatch's own output.
   */
  ingestFilters(sharedGroup?: string): string[] {
    const filters = [
      `${this.root}/sensors/+/telemetry`,
      `${this.root}/sensors/+/status`,
      `${this.root}/substations/+/telemetry`,
      `${this.root}/weather/+/observation`,
      `${this.root}/weather/+/forecast`,
    ];
    return sharedGroup ? filters.map((f) => `$share/${sharedGroup}/${f}`) : filters;
  }
}
