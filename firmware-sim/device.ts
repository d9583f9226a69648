/**
 * Room-sensor firmware, as a state machine without I/O: it measures, decides what goes on the wire
 * and keeps what it could not send. The runner owns the MQTT connections and asks each sensor for
 * its messages when it is due and when its connection comes back.
 *
 * Behaviour (issue 2 item 7): report interval with jitter, Gaussian noise and a fixed calibration
 * error, 0.1 °C resolution, a slowly falling battery, a `seq` counter, store-and-forward while
 * offline (one array message on reconnect, bounded buffer), and fault injection at configured rates.
 */
import { createHmac } from 'node:crypto';
import type { SimConfig } from '../src/config/sim-schema.ts';
import { hash32, Rng } from './random.ts';

const DAY_MS = 86_400_000;

/** A room reading as the firmware sends it (docs/architecture.md "The contract"). */
export interface WireReading {
  ts: number;
  temp: number;
  humidity?: number;
  battery: number;
  seq: number;
}

/** One MQTT message a sensor wants published, with what it carries (for counting). */
export interface SensorMessage {
  payload: string;
  /** Valid readings in the message (an array message carries several). */
  readings: number;
  kind: 'reading' | 'batch' | 'duplicate' | 'malformed' | 'out_of_order';
}

/** Device password derived from the group key (docs/architecture.md "Device credentials"). */
export const devicePassword = (deviceKey: string, deviceId: string): string =>
  createHmac('sha256', deviceKey).update(deviceId).digest('hex');

export type MalformedKind = 'not_json' | 'temp_string' | 'temp_out_of_range' | 'ts_missing';
const MALFORMED_KINDS: MalformedKind[] = ['not_json', 'temp_string', 'temp_out_of_range', 'ts_missing'];

export class SensorFirmware {
  /** Heating time of the next report. */
  nextDueMs: number;
  private seq = 0;
  private readonly rng: Rng;
  private readonly biasC: number;
  private readonly humidityBasePct: number;
  private readonly batteryStartV: number;
  private readonly bootMs: number;
  private buffer: WireReading[] = [];
  private held: WireReading | undefined;
  private dropoutUntilMs = 0;
  /** Readings lost to a full buffer. */
  droppedFromBuffer = 0;

  constructor(
    readonly id: string,
    private readonly intervalMs: number,
    private readonly cfg: SimConfig,
    startMs: number,
  ) {
    this.rng = new Rng(hash32(cfg.seed, 'sensor', id));
    const d = cfg.devices;
    this.biasC = d.biasC * this.rng.gauss();
    this.humidityBasePct = this.rng.between(32, 48);
    this.batteryStartV = d.batteryFullV - this.rng.between(0, 0.25);
    this.bootMs = startMs;
    // Devices were switched on at different times: the first report falls anywhere in one interval.
    this.nextDueMs = startMs + Math.floor(this.rng.next() * intervalMs);
  }

  get buffered(): number {
    return this.buffer.length + (this.held ? 1 : 0);
  }

  inDropout(nowMs: number): boolean {
    return nowMs < this.dropoutUntilMs;
  }

  /**
   * The sensor is due: measure `trueTempC` at `tsMs`, schedule the next report, and return the
   * messages to publish now (none when `online` is false or the sensor is in a dropout: then the
   * reading is buffered).
   */
  report(tsMs: number, trueTempC: number, online: boolean): SensorMessage[] {
    const d = this.cfg.devices;
    const f = this.cfg.messageFaults;
    const jitter = 1 + d.intervalJitter * (2 * this.rng.next() - 1);
    this.nextDueMs = tsMs + Math.max(1000, Math.round(this.intervalMs * jitter));
    const reading = this.measure(tsMs, trueTempC);

    if (!this.inDropout(tsMs) && f.dropoutPerDay > 0) {
      const pStart = (f.dropoutPerDay * this.intervalMs) / DAY_MS;
      if (this.rng.next() < pStart) {
        const hours = this.rng.between(f.dropoutMinH, Math.max(f.dropoutMinH, f.dropoutMaxH));
        this.dropoutUntilMs = tsMs + hours * 3_600_000;
      }
    }
    if (!online || this.inDropout(tsMs)) {
      this.keep(reading);
      return [];
    }
    if (this.buffer.length > 0) {
      // Back after a dropout: the backlog and this reading go out as one array, oldest first.
      this.keep(reading);
      return this.flush();
    }
    const previouslyHeld = this.held;
    this.held = undefined;
    const out: SensorMessage[] = [];
    const r = this.rng.next();
    if (r < f.malformedRate) {
      out.push(this.malformed(reading));
    } else if (r < f.malformedRate + f.outOfOrderRate && !previouslyHeld) {
      // Held back: goes out after the next reading, so ingest sees ts and seq go backwards.
      this.held = reading;
    } else if (r < f.malformedRate + f.outOfOrderRate + f.duplicateRate) {
      out.push(this.single(reading, 'reading'), this.single(reading, 'duplicate'));
    } else {
      out.push(this.single(reading, 'reading'));
    }
    if (previouslyHeld) out.push(this.single(previouslyHeld, 'out_of_order'));
    return out;
  }

  /** Called when the connection comes back: the backlog as one array message (or nothing). */
  flush(): SensorMessage[] {
    if (this.held) {
      // A reading held back for out-of-order delivery joins the backlog at its place in time.
      this.buffer.unshift(this.held);
      this.buffer.sort((a, b) => a.seq - b.seq);
      this.held = undefined;
    }
    if (this.buffer.length === 0) return [];
    const batch = this.buffer;
    this.buffer = [];
    return [{ payload: JSON.stringify(batch), readings: batch.length, kind: 'batch' }];
  }

  /** Whether a connection that just came back should send a backlog now (not during a dropout). */
  hasBacklog(nowMs: number): boolean {
    return !this.inDropout(nowMs) && this.buffer.length > 0;
  }

  statusOnline(): string {
    return JSON.stringify({ online: true, fw: this.cfg.devices.firmware });
  }

  private single(reading: WireReading, kind: SensorMessage['kind']): SensorMessage {
    return { payload: JSON.stringify(reading), readings: 1, kind };
  }

  private keep(reading: WireReading): void {
    this.buffer.push(reading);
    const max = this.cfg.devices.bufferMax;
    if (this.buffer.length > max) {
      // Firmware RAM is bounded: the oldest readings go first.
      this.droppedFromBuffer += this.buffer.length - max;
      this.buffer.splice(0, this.buffer.length - max);
    }
  }

  private measure(tsMs: number, trueTempC: number): WireReading {
    const d = this.cfg.devices;
    const raw = trueTempC + this.biasC + d.noiseC * this.rng.gauss();
    const temp = Math.round(raw / d.resolutionC) * d.resolutionC;
    const days = Math.max(0, tsMs - this.bootMs) / DAY_MS;
    const battery = Math.max(d.batteryMinV, this.batteryStartV - d.batteryDropVPerDay * days);
    this.seq += 1;
    const reading: WireReading = {
      ts: tsMs,
      temp: Number(temp.toFixed(2)),
      battery: Math.round(battery * 100) / 100,
      seq: this.seq,
    };
    if (d.humidity) reading.humidity = Math.round(this.humidityBasePct + 1.5 * this.rng.gauss());
    return reading;
  }

  private malformed(reading: WireReading): SensorMessage {
    const kind = MALFORMED_KINDS[Math.floor(this.rng.next() * MALFORMED_KINDS.length)]!;
    let payload: string;
    switch (kind) {
      case 'not_json':
        payload = JSON.stringify(reading).slice(0, 17); // a truncated frame
        break;
      case 'temp_string':
        payload = JSON.stringify({ ...reading, temp: String(reading.temp) });
        break;
      case 'temp_out_of_range':
        payload = JSON.stringify({ ...reading, temp: 127.5 }); // a sensor's error code as a value
        break;
      default: {
        const { ts: _ts, ...rest } = reading;
        payload = JSON.stringify(rest);
      }
    }
    return { payload, readings: 0, kind: 'malformed' };
  }
}
