import type { Sensor } from '../src/core/registry.ts';

/**
 * `npm run sim -- --format chirpstack|tts`: the simulated room sensors' readings as a LoRaWAN network
 * server would publish them (docs/ingest.md "LoRaWAN network servers"), so the whole adapter path can
 * be watched on the demo network. A sensor with a `model` sends its vendor's raw bytes only (as with
 * no codec on the network server); one without sends a decoded object. Sensors without a `devEui`
 * are not LoRaWAN devices: they stay on the contract topic.
 */
export type SimFormat = 'native' | 'chirpstack' | 'tts';

interface NativeReading {
  ts: number;
  temp: number;
  humidity?: number;
  battery?: number;
}

/** Fixed ids a real deployment would take from its network server. */
const CHIRPSTACK_APPLICATION = '6f1d5c7e-0b4a-4c1e-9d7a-2a4f3e8b9c10';
const TTS_APPLICATION = 'heatwatch-demo@ttn';

export class UplinkEncoder {
  private readonly fCnt = new Map<string, number>();
  private readonly devices = new Map<string, { devEui: string; model?: string }>();

  constructor(
    private readonly format: 'chirpstack' | 'tts',
    sensors: readonly Sensor[],
    /** Put before the network server's topics (tests share one broker); '' in a real deployment. */
    private readonly topicPrefix = '',
  ) {
    for (const s of sensors) if (s.devEui) this.devices.set(s.id, { devEui: s.devEui, model: s.model });
  }

  /** How many sensors publish as uplinks. */
  get devicesCount(): number {
    return this.devices.size;
  }

  /**
   * The uplinks for one native sensor payload (a reading or a store-and-forward array, each reading
   * its own uplink), or undefined: not a LoRaWAN device, or a payload that is not readings (the
   * simulator's malformed messages stay native, where their dead-lettering is counted).
   */
  encode(sensorId: string, nativePayload: string): Array<{ topic: string; payload: string }> | undefined {
    const dev = this.devices.get(sensorId);
    if (!dev) return undefined;
    let body: unknown;
    try {
      body = JSON.parse(nativePayload);
    } catch {
      return undefined;
    }
    const readings = (Array.isArray(body) ? body : [body]) as NativeReading[];
    if (!readings.every((r) => typeof r?.ts === 'number' && typeof r.temp === 'number')) return undefined;
    return readings.map((r) => {
      const fCnt = this.fCnt.get(sensorId) ?? 0;
      this.fCnt.set(sensorId, fCnt + 1);
      return this.uplink(sensorId, dev, r, fCnt);
    });
  }

  private uplink(
    sensorId: string,
    dev: { devEui: string; model?: string },
    r: NativeReading,
    fCnt: number,
  ): { topic: string; payload: string } {
    const bytes = dev.model ? vendorBytes(dev.model, r) : undefined;
    const object = bytes ? undefined : { temperature: r.temp, humidity: r.humidity };
    const time = new Date(r.ts).toISOString();
    if (this.format === 'chirpstack')
      return {
        topic: `${this.topicPrefix}application/${CHIRPSTACK_APPLICATION}/device/${dev.devEui}/event/up`,
        payload: JSON.stringify({
          time,
          deviceInfo: { applicationId: CHIRPSTACK_APPLICATION, deviceName: sensorId, devEui: dev.devEui },
          fCnt,
          fPort: 1,
          ...(object ? { object } : {}),
          ...(bytes ? { data: bytes.toString('base64') } : {}),
        }),
      };
    return {
      topic: `${this.topicPrefix}v3/${TTS_APPLICATION}/devices/${sensorId}/up`,
      payload: JSON.stringify({
        end_device_ids: { device_id: sensorId, dev_eui: dev.devEui.toUpperCase() },
        received_at: time,
        uplink_message: {
          f_port: 1,
          ...(fCnt > 0 ? { f_cnt: fCnt } : {}),
          ...(object ? { decoded_payload: object } : {}),
          ...(bytes ? { frm_payload: bytes.toString('base64') } : {}),
        },
      }),
    };
  }
}

/** The vendor's payload for a reading: Elsys type-value big-endian, Milesight channel-type little-endian. */
function vendorBytes(model: string, r: NativeReading): Buffer | undefined {
  const deci = Math.round(r.temp * 10);
  const humidity = Math.round(Math.min(100, Math.max(0, r.humidity ?? 40)));
  if (model.startsWith('elsys-')) {
    const b = Buffer.alloc(8);
    b.writeUInt8(0x01, 0);
    b.writeInt16BE(deci, 1);
    b.writeUInt8(0x02, 3);
    b.writeUInt8(humidity, 4);
    b.writeUInt8(0x07, 5);
    b.writeUInt16BE(Math.round((r.battery ?? 3.6) * 1000), 6);
    return b;
  }
  if (model.startsWith('milesight-')) {
    const b = Buffer.alloc(7);
    b.writeUInt16BE(0x0367, 0);
    b.writeInt16LE(deci, 2);
    b.writeUInt16BE(0x0468, 4);
    b.writeUInt8(humidity * 2, 6);
    return b;
  }
  return undefined;
}
