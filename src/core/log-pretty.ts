/**
 * One readable line per log event for a person at a terminal:
 *
 *   17:49:05.123 INFO  ingest: store back, draining spool  rows=3408 ms=58
 *
 * time (local), level, module, message, then the remaining fields as key=value. An error's stack
 * follows on indented lines, the one place a second line helps more than it costs. Pure: pino's JSON
 * event in, text out, so the format is tested without a terminal.
 */

const ESC = '\u001b[';
const paint = (code: string, text: string, on: boolean) => (on ? `${ESC}${code}m${text}${ESC}0m` : text);

/** pino's numeric levels → label and colour (SGR code). */
const LEVELS: Record<number, { label: string; sgr: string }> = {
  10: { label: 'TRACE', sgr: '90' },
  20: { label: 'DEBUG', sgr: '34' },
  30: { label: 'INFO', sgr: '32' },
  40: { label: 'WARN', sgr: '33' },
  50: { label: 'ERROR', sgr: '31' },
  60: { label: 'FATAL', sgr: '1;41' },
};

/** Fields every event carries that the line shows elsewhere or that a person does not need. */
const SHOWN_ELSEWHERE = new Set(['time', 'level', 'msg', 'module', 'svc', 'pid', 'hostname', 'err']);

/** Colour when the destination is a terminal, unless NO_COLOR (no-color.org) or FORCE_COLOR say else. */
export function wantsColour(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0';
  return stream.isTTY === true;
}

const two = (n: number) => String(n).padStart(2, '0');

function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** A field value as a person reads it: bare words bare, anything else as JSON. */
function fieldValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

interface SerializedError {
  type?: string;
  message?: string;
  stack?: string;
  code?: string;
}

/** One event (pino's JSON object) as one line ending in a newline; an error's stack indented below. */
export function formatPrettyLine(event: Record<string, unknown>, colour: boolean): string {
  const lv = LEVELS[Number(event.level)] ?? { label: String(event.level), sgr: '0' };
  const time = typeof event.time === 'number' ? clockTime(event.time) : '';
  const module = typeof event.module === 'string' ? event.module : 'main';
  const fields = Object.entries(event)
    .filter(([k]) => !SHOWN_ELSEWHERE.has(k))
    .map(([k, v]) => `${k}=${fieldValue(v)}`);
  const err = event.err as SerializedError | undefined;
  if (err && typeof err === 'object') fields.unshift(`err=${fieldValue(err.code ?? err.type ?? 'Error')}`);
  const msg = typeof event.msg === 'string' ? event.msg : (err?.message ?? '');
  let line = `${paint('2', time, colour)} ${paint(lv.sgr, lv.label.padEnd(5), colour)} ${paint('36', `${module}:`, colour)} ${msg}`;
  if (fields.length > 0) line += `  ${paint('2', fields.join(' '), colour)}`;
  if (err && typeof err === 'object' && typeof err.stack === 'string') {
    const stack = err.stack
      .split('\n')
      .map((l) => `    ${l.trim()}`)
      .join('\n');
    line += `\n${paint('2', stack, colour)}`;
  }
  return `${line}\n`;
}
