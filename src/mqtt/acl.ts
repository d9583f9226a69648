import type { Principal } from './broker.ts';
import { Topics } from './topics.ts';

/**
 * Topic access per identity (issue 6 item 1), as pure functions of the principal and the topic, so
 * the embedded broker and the Mosquitto ACL file written by `mosquitto-files` grant the same:
 *
 * | identity          | may publish                                         | may subscribe            |
 * |-------------------|-----------------------------------------------------|--------------------------|
 * | room sensor `s`   | `{root}/sensors/s/telemetry`, `{root}/sensors/s/status` | nothing                |
 * | substation `u`    | `{root}/substations/u/telemetry`                    | `{root}/substations/u/setpoint` |
 * | weather feed `w`  | `{root}/weather/w/observation`, `…/forecast`        | nothing                  |
 * | service account   | `{root}/substations/{any}/setpoint`                 | everything               |
 *
 * Devices never get a wildcard or a `$SYS` subscription: a compromised sensor learns nothing about the
 * rest of the network and cannot impersonate a neighbour.
 */
export class TopicAcl {
  private readonly topics: Topics;
  private readonly setpointPrefix: string;

  constructor(readonly topicRoot: string) {
    this.topics = new Topics(topicRoot);
    this.setpointPrefix = `${topicRoot}/substations/`;
  }

  canPublish(p: Principal, topic: string): boolean {
    switch (p.kind) {
      case 'sensor':
        return topic === this.topics.sensorTelemetry(p.id) || topic === this.topics.sensorStatus(p.id);
      case 'substation':
        return topic === this.topics.substationTelemetry(p.id);
      case 'weather':
        return topic === this.topics.weatherObservation(p.id) || topic === this.topics.weatherForecast(p.id);
      case 'service': {
        // Only setpoint commands: heatwatch never speaks for a device.
        const parsed = this.topics.parse(topic);
        return parsed?.kind === 'substationSetpoint' && topic.startsWith(this.setpointPrefix);
      }
      case 'open':
        return !topic.startsWith('$');
    }
  }

  /** A filter (or, for delivery checks, a concrete topic) the principal may read. */
  canSubscribe(p: Principal, filter: string): boolean {
    switch (p.kind) {
      case 'sensor':
      case 'weather':
        return false;
      case 'substation':
        // Exact topic only: `+`/`#` never match here because ids cannot contain them.
        return filter === this.topics.setpoint(p.id);
      case 'service':
      case 'open':
        return true;
    }
  }
}
