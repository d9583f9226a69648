import { type Logger, pino } from 'pino';
import { formatPrettyLine, wantsColour } from './log-pretty.ts';

export type { Logger };

export interface LoggerOptions {
  /** One readable line per event instead of JSON; default: stdout is a terminal and not CI. */
  pretty?: boolean;
  /** ANSI colours in pretty lines; default: the destination is a terminal and NO_COLOR is unset. */
  colour?: boolean;
  destination?: NodeJS.WritableStream;
}

/** Pretty when a person watches a terminal; JSON for pipes, files, containers and CI (log shippers). */
export function wantsPretty(
  stream: { isTTY?: boolean },
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (env.HEATWATCH_LOG_FORMAT === 'json') return false;
  if (env.HEATWATCH_LOG_FORMAT === 'pretty') return true;
  return stream.isTTY === true && env.CI !== 'true';
}

/**
 * JSON lines by default (for the log shipper); when a person runs heatwatch in a terminal the same
 * events are printed as one coloured line each (src/core/log-pretty.ts). The pretty form is a
 * synchronous destination stream, not a worker-thread transport: nothing is lost when the process
 * exits right after logging (a failed start), and no extra package is needed for a 60-line job.
 */
export function createLogger(level = 'info', opts: LoggerOptions = {}): Logger {
  const out = opts.destination ?? process.stdout;
  const pretty = opts.pretty ?? wantsPretty(out as { isTTY?: boolean });
  if (!pretty) return pino({ level, base: { svc: 'heatwatch' } }, opts.destination as never);
  const colour = opts.colour ?? wantsColour(out as { isTTY?: boolean });
  const stream = {
    write(line: string) {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(formatPrettyLine(event, colour));
    },
  };
  return pino({ level, base: { svc: 'heatwatch' } }, stream);
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
