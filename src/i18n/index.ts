import { en, type MessageKey, type Messages } from './messages-en.ts';
import { zhCN } from './messages-zh-cn.ts';

/**
 * Messages and formatting for people, in the two locales heatwatch speaks. The browser's own `Intl`
 * formats dates, numbers and plurals; the catalogues are plain objects with `{name}` parameters.
 * No ICU library: the messages need no nested plural/select logic, and a small catalogue keeps the
 * dashboard bundle small. Pure: the dashboard and the server (CSV headers, bulletins) share it.
 */
export const LOCALES = ['en', 'zh-CN'] as const;
export type Locale = (typeof LOCALES)[number];
export type { MessageKey };

export const CATALOGUES: Record<Locale, Messages> = { en, 'zh-CN': zhCN };

export function isLocale(x: unknown): x is Locale {
  return typeof x === 'string' && (LOCALES as readonly string[]).includes(x);
}

/** Picks the supported locale closest to an Accept-Language style tag (`zh`, `zh-Hans-CN` → zh-CN). */
export function pickLocale(tag: string | undefined, fallback: Locale): Locale {
  if (!tag) return fallback;
  const lower = tag.toLowerCase();
  if (lower.startsWith('zh')) return 'zh-CN';
  if (lower.startsWith('en')) return 'en';
  return fallback;
}

export type Params = Record<string, string | number>;

export interface Translator {
  readonly locale: Locale;
  readonly timeZone: string;
  t(key: MessageKey, params?: Params): string;
  /** A key that may not exist (e.g. built from a server code): falls back to `fallback`. */
  tOr(key: string, fallback: string, params?: Params): string;
  num(v: number | undefined, digits?: number): string;
  tempC(v: number | undefined, digits?: number): string;
  pct(share: number | undefined, digits?: number): string;
  dateTime(ts: number | undefined): string;
  /** Month, day and time of day, for chart ticks. */
  shortTime(ts: number): string;
  /** A duration in days/hours/minutes, e.g. "1 d 18 h" / "1天18小时". */
  duration(ms: number): string;
  /** Relative to now: "in 1 d 18 h" / "1天18小时后", or overdue. */
  relative(ms: number): string;
}

function fill(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) =>
    params[name] === undefined ? m : String(params[name]),
  );
}

/** Date and time of day to the minute, 24-hour: how times are shown and typed. */
const TO_THE_MINUTE = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
} as const;

/** Wall time in `timeZone` as `YYYY-MM-DDTHH:mm`, what a datetime-local input holds. */
export function toZoneLocal(ts: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, ...TO_THE_MINUTE }).formatToParts(new Date(ts));
  const p = (type: string) => parts.find((x) => x.type === type)?.value ?? '00';
  return `${p('year')}-${p('month')}-${p('day')}T${p('hour')}:${p('minute')}`;
}

/** The instant a datetime-local value means in `timeZone` (its offset found by one round trip). */
export function fromZoneLocal(value: string, timeZone: string): number {
  const asUtc = Date.parse(`${value}:00Z`);
  const shown = Date.parse(`${toZoneLocal(asUtc, timeZone)}:00Z`);
  return asUtc - (shown - asUtc);
}

/** A translator for one locale and the site's time zone (an IANA name such as Asia/Shanghai). */
export function translator(locale: Locale, timeZone: string): Translator {
  const cat = CATALOGUES[locale];
  const numFmt = new Map<number, Intl.NumberFormat>();
  const nf = (digits: number) => {
    let f = numFmt.get(digits);
    if (!f) {
      f = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
      numFmt.set(digits, f);
    }
    return f;
  };
  const dtf = new Intl.DateTimeFormat(locale, { timeZone, ...TO_THE_MINUTE });
  const short = new Intl.DateTimeFormat(locale, {
    timeZone,
    month: 'numeric',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
  const t = (key: MessageKey, params?: Params) => fill(cat[key], params);
  const self: Translator = {
    locale,
    timeZone,
    t,
    tOr: (key, fallback, params) => fill((cat as Record<string, string>)[key] ?? fallback, params),
    num: (v, digits = 1) => (v === undefined || !Number.isFinite(v) ? '—' : nf(digits).format(v)),
    tempC: (v, digits = 1) =>
      v === undefined || !Number.isFinite(v) ? '—' : t('unit.celsius', { v: nf(digits).format(v) }),
    pct: (share, digits = 1) =>
      share === undefined || !Number.isFinite(share)
        ? '—'
        : t('unit.percent', { v: nf(digits).format(share * 100) }),
    dateTime: (ts) => (ts === undefined || !Number.isFinite(ts) ? '—' : dtf.format(new Date(ts))),
    shortTime: (ts) => short.format(new Date(ts)),
    duration(ms) {
      let s = Math.abs(Math.round(ms / 1000));
      const d = Math.floor(s / 86_400);
      s -= d * 86_400;
      const h = Math.floor(s / 3600);
      const m = Math.floor((s - h * 3600) / 60);
      if (d > 0) return t('dur.days', { d, h });
      if (h > 0) return t('dur.hours', { h, m });
      return t('dur.minutes', { m });
    },
    relative: (ms) =>
      ms < 0 ? t('dur.overdue', { d: self.duration(ms) }) : t('dur.in', { d: self.duration(ms) }),
  };
  return self;
}

/** True when `tz` is a time zone this runtime's Intl knows (config validation). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
