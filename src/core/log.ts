import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * JSON logs by default (for the log shipper); when a person runs heatwatch in a terminal the same
 * lines are printed as `time level module: message` without extra packages.
 */
export function createLogger(
  level = 'info',
  opts: { pretty?: boolean; destination?: NodeJS.WritableStream } = {},
): Logger {
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && process.env.CI !== 'true');
  if (!pretty) return pino({ level, base: { svc: 'heatwatch' } }, opts.destination as never);
  const out = opts.destination ?? process.stdout;
  const stream = {
    write(line: string) {
      try {
        const o = JSON.parse(line) as Record<string, unknown>;
        const { time, level: lv, msg, module, svc: _svc, pid: _pid, hostname: _h, ...rest } = o;
        const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        out.write(
          `${new Date(Number(time)).toISOString()} ${pino.levels.labels[Number(lv)] ?? lv} ${module ?? 'main'}: ${msg ?? ''}${extra}\n`,
        );
      } catch {
        out.write(line);
      }
    },
  };
  return pino({ level, base: { svc: 'heatwatch' } }, stream);
}

/** A logger that drops everything, for tests that do not look at logs. */
export const silentLogger = (): Logger => pino({ level: 'silent' });
