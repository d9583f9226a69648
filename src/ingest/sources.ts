import type { DecodeContext, DecodeOutput } from './decode.ts';
import { decode } from './decode.ts';
import { decodeUplink, type UplinkFormat } from './uplink.ts';

/**
 * `ingest.sources` of heatwatch.yaml: extra subscriptions whose messages are in a network server's
 * format rather than the contract's. The contract topics under the topic root always come first, so
 * a broad filter can never take a native message away from the native decoder.
 */
export interface UplinkSource {
  /** MQTT topic filter, e.g. `application/+/device/+/event/up`. */
  filter: string;
  format: UplinkFormat;
}

export class UplinkSources {
  private readonly compiled: ReadonlyArray<{ levels: string[]; format: UplinkFormat }>;

  constructor(readonly sources: readonly UplinkSource[]) {
    this.compiled = sources.map((s) => ({ levels: s.filter.split('/'), format: s.format }));
  }

  /** The format of the first source whose filter matches the topic. */
  formatOf(topic: string): UplinkFormat | undefined {
    if (this.compiled.length === 0) return undefined;
    const levels = topic.split('/');
    for (const c of this.compiled) if (filterMatches(c.levels, levels)) return c.format;
    return undefined;
  }

  /** The subscriptions these sources need, in the same shared group as the contract topics. */
  filters(sharedGroup?: string): string[] {
    return this.sources.map((s) => (sharedGroup ? `$share/${sharedGroup}/${s.filter}` : s.filter));
  }
}

/** MQTT 3.1.1 §4.7 matching: `+` one level, `#` the rest; `$`-topics only by an explicit first level. */
export function filterMatches(filter: readonly string[], topic: readonly string[]): boolean {
  if (topic[0]?.startsWith('$') && (filter[0] === '+' || filter[0] === '#')) return false;
  for (let i = 0; i < filter.length; i++) {
    const f = filter[i];
    if (f === '#') return true;
    if (i >= topic.length) return false;
    if (f !== '+' && f !== topic[i]) return false;
  }
  return filter.length === topic.length;
}

/** One MQTT message of any subscribed format → reading | reason. Never throws on input. */
export function decodeMessage(
  topic: string,
  payload: Buffer,
  ctx: DecodeContext,
  sources: UplinkSources,
): DecodeOutput {
  const format = ctx.topics.parse(topic) ? undefined : sources.formatOf(topic);
  return format ? decodeUplink(format, payload, ctx) : decode(topic, payload, ctx);
}
