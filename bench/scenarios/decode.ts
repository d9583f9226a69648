/**
 * Decoder cost per message, in process (no broker, no journal): the contract's `{ts, temp}` beside
 * network-server uplinks with a codec object and with raw vendor bytes. Isolates what an adapter adds
 * to the ingest path from the broker and disk, which dominate `npm run bench -- ingest`.
 */
import { UplinkEncoder } from '../../firmware-sim/uplink.ts';
import { loadConfig } from '../../src/config/loader.ts';
import { decodeMessage, UplinkSources } from '../../src/ingest/sources.ts';
import { ingestSettings } from '../../src/main.ts';
import { Topics } from '../../src/mqtt/topics.ts';

export interface DecodeBenchResult {
  messages: number;
  rows: Array<{ variant: string; payloadBytes: number; usPerMessage: number; perS: number }>;
}

export function runDecodeBench(opts: { messages: number }): DecodeBenchResult {
  const config = loadConfig('config', {});
  const settings = ingestSettings(config.service);
  const sources = new UplinkSources([
    { filter: 'application/+/device/+/event/up', format: 'chirpstack' },
    { filter: 'v3/+/devices/+/up', format: 'tts' },
  ]);
  const now = Date.now();
  const ctx = { registry: config.registry, topics: new Topics('heat'), nowMs: now, limits: settings.limits };
  const sensors = config.registry.registry.sensors;
  const byModel = (m: string | undefined) => sensors.find((s) => s.devEui && s.model === m)!;
  const native = JSON.stringify({ ts: now - 1000, temp: 21.3, humidity: 40, battery: 3.01, seq: 7 });
  const variants: Array<{ variant: string; topic: string; payload: Buffer }> = [
    {
      variant: 'native {ts, temp}',
      topic: `heat/sensors/${sensors[0]!.id}/telemetry`,
      payload: Buffer.from(native),
    },
  ];
  for (const format of ['chirpstack', 'tts'] as const) {
    const enc = new UplinkEncoder(format, sensors);
    for (const [label, s] of [
      ['codec object', byModel(undefined)],
      ['elsys bytes', byModel('elsys-ers')],
      ['milesight bytes', byModel('milesight-em300-th')],
    ] as const) {
      const up = enc.encode(s.id, native)![0]!;
      variants.push({ variant: `${format} ${label}`, topic: up.topic, payload: Buffer.from(up.payload) });
    }
  }
  const rows: DecodeBenchResult['rows'] = [];
  for (const v of variants) {
    const check = decodeMessage(v.topic, v.payload, ctx, sources);
    if (!check.ok) throw new Error(`${v.variant} refused: ${check.reason} ${check.detail}`);
    for (let i = 0; i < 2000; i++) decodeMessage(v.topic, v.payload, ctx, sources); // warm-up
    const t0 = performance.now();
    for (let i = 0; i < opts.messages; i++) decodeMessage(v.topic, v.payload, ctx, sources);
    const us = ((performance.now() - t0) * 1000) / opts.messages;
    rows.push({
      variant: v.variant,
      payloadBytes: v.payload.length,
      usPerMessage: Math.round(us * 100) / 100,
      perS: Math.round(1e6 / us),
    });
  }
  return { messages: opts.messages, rows };
}

export function formatDecodeBench(r: DecodeBenchResult): string {
  return [
    `decode: ${r.messages} messages per variant, in process`,
    ...r.rows.map(
      (x) =>
        `  ${x.variant.padEnd(28)} ${String(x.payloadBytes).padStart(4)} B   ${x.usPerMessage.toFixed(2).padStart(6)} µs/message   ${String(x.perS).padStart(7)}/s`,
    ),
  ].join('\n');
}
