import { type LiveEventName, type LiveEvents, ROLE_RANK, type Role } from '../http/wire.ts';
import { tr } from './i18n.ts';

/** Shared bits of the dashboard: token, API calls, the live stream, DOM helpers, colours. */

export { ROLE_RANK, type Role };

const TOKEN_KEY = 'heatwatch.token';
export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(t: string | null) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  me: undefined as { name: string; role: Role } | undefined,
  /** Heating time minus browser time, so ranges and defaults follow the service's clock. */
  offsetMs: 0,
  now(): number {
    return Date.now() + this.offsetMs;
  },
  can(role: Role): boolean {
    return this.me !== undefined && ROLE_RANK[this.me.role] >= ROLE_RANK[role];
  },
};

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (session.token) headers.authorization = `Bearer ${session.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!res.ok) {
    let e: { statusCode?: number; code?: string; message?: string; field?: string } = {};
    try {
      e = await res.json();
    } catch {
      /* not JSON: keep the status */
    }
    throw new ApiError(res.status, e.code ?? 'HW_ERR', e.message ?? res.statusText, e.field);
  }
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? res.json() : res.text()) as Promise<T>;
}

export async function apiBlob(path: string): Promise<Blob> {
  const res = await fetch(path, { headers: { authorization: `Bearer ${session.token ?? ''}` } });
  if (!res.ok) throw new ApiError(res.status, 'HW_ERR', res.statusText);
  return res.blob();
}

type Listeners = { [K in LiveEventName]?: Array<(data: LiveEvents[K]) => void> };

/**
 * One EventSource per page view. The token rides as ?token= because EventSource cannot set an
 * Authorization header; the server accepts that on /api/live only.
 */
export class LiveStream {
  private es?: EventSource;
  private readonly listeners: Listeners = {};

  constructor(private readonly buildings: string) {}

  /** Subscribes to one event of the live stream; `data` is typed by the wire contract (src/http/wire.ts). */
  on<K extends LiveEventName>(event: K, fn: (data: LiveEvents[K]) => void): this {
    const list: Array<(data: LiveEvents[K]) => void> = this.listeners[event] ?? [];
    list.push(fn);
    this.listeners[event] = list as Listeners[K];
    return this;
  }

  open(): void {
    const q = new URLSearchParams({ buildings: this.buildings, token: session.token ?? '' });
    const es = new EventSource(`/api/live?${q}`);
    this.es = es;
    const dot = document.getElementById('live-dot');
    es.onopen = () => dot?.classList.add('on');
    es.onerror = () => dot?.classList.remove('on');
    for (const [event, fns] of Object.entries(this.listeners))
      es.addEventListener(event, (m) => {
        // The server serialises LiveEvents[event] (src/http/live-hub.ts); JSON.parse gives it back.
        const data = JSON.parse((m as MessageEvent<string>).data);
        for (const fn of fns) fn(data);
      });
  }

  close(): void {
    this.es?.close();
    document.getElementById('live-dot')?.classList.remove('on');
  }
}

type Child = Node | string | number | null | undefined | false;

/** Tiny element builder: `h('div', { class: 'x' }, 'text', child)`. Text is always escaped. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined | ((e: Event) => void)> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Compact temperature for cells and tiles ("21.3°"); text for people uses tr().tempC ("21.3 °C"). */
export const fmtC = (v: number | undefined, digits = 1): string =>
  v === undefined ? '—' : `${tr().num(v, digits)}°`;

/** A time in the site's time zone, in the page's language. */
export const fmtTime = (ts: number | undefined): string => tr().dateTime(ts);

/** Time until something is due ("in 1 d 18 h" / "1天18小时后"), or how long it is overdue. */
export const fmtDuration = (ms: number): string => tr().relative(ms);

/** Room temperature colour: blue below the 18 °C line, green in band, orange to red above. */
export function tempColour(t: number | undefined): string {
  if (t === undefined) return '#3a3f47';
  const stops: Array<[number, [number, number, number]]> = [
    [14, [37, 70, 170]],
    [17, [60, 130, 220]],
    [18, [80, 180, 210]],
    [19.5, [70, 170, 110]],
    [22, [90, 175, 90]],
    [24, [230, 160, 50]],
    [27, [210, 60, 50]],
  ];
  if (t <= stops[0]![0]) return `rgb(${stops[0]![1].join(',')})`;
  for (let i = 1; i < stops.length; i++) {
    const [t1, c1] = stops[i]!;
    const [t0, c0] = stops[i - 1]!;
    if (t <= t1) {
      const f = (t - t0) / (t1 - t0);
      return `rgb(${c0.map((c, j) => Math.round(c + (c1[j]! - c) * f)).join(',')})`;
    }
  }
  return `rgb(${stops[stops.length - 1]![1].join(',')})`;
}

/** A building state's name for people (the API keeps the machine code). */
export const stateLabel = (state: string): string => tr().tOr(`state.${state}`, state);

/** A position class's name, and its one-letter mark on the façade. */
export const classLabel = (c: string): string => tr().tOr(`class.${c}`, c);
export const classMark = (c: string): string => tr().tOr(`classMark.${c}`, c.slice(0, 1).toUpperCase());
