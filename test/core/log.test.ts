import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, wantsPretty } from '../../src/core/log.ts';
import { formatPrettyLine, wantsColour } from '../../src/core/log-pretty.ts';

const ESC = '\u001b[';

function capture(): { destination: Writable; text: () => string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return { destination, text: () => chunks.join('') };
}

describe('pretty log lines', () => {
  const t = new Date(2026, 0, 15, 7, 5, 9, 42).getTime();

  it('prints time, level, module, message and the other fields on one line', () => {
    const line = formatPrettyLine(
      {
        level: 30,
        time: t,
        svc: 'heatwatch',
        pid: 1,
        hostname: 'h',
        module: 'ingest',
        msg: 'store back',
        rows: 3408,
        store: 'sqlite',
      },
      false,
    );
    expect(line).toBe('07:05:09.042 INFO  ingest: store back  rows=3408 store=sqlite\n');
  });

  it('quotes values a person could misread and shows objects as JSON', () => {
    const line = formatPrettyLine(
      { level: 40, time: t, msg: 'x', reason: 'too large', changed: ['rules.tick'] },
      false,
    );
    expect(line).toBe('07:05:09.042 WARN  main: x  reason="too large" changed=["rules.tick"]\n');
  });

  it('colours the level when asked and only then', () => {
    const coloured = formatPrettyLine({ level: 50, time: t, msg: 'down' }, true);
    expect(coloured).toContain(`${ESC}31mERROR${ESC}0m`);
    expect(formatPrettyLine({ level: 50, time: t, msg: 'down' }, false)).not.toContain(ESC);
  });

  it('puts an error stack on indented lines below its event', () => {
    const line = formatPrettyLine(
      {
        level: 50,
        time: t,
        module: 'http',
        msg: 'stop failed',
        err: {
          type: 'HwError',
          code: 'HW_ERR_X',
          message: 'boom',
          stack: 'HwError: boom\n    at a (x.ts:1:1)',
        },
      },
      false,
    );
    expect(line).toBe(
      '07:05:09.042 ERROR http: stop failed  err=HW_ERR_X\n    HwError: boom\n    at a (x.ts:1:1)\n',
    );
  });
});

describe('createLogger', () => {
  it('writes JSON lines when not pretty (pipes, files, CI)', () => {
    const c = capture();
    createLogger('info', { pretty: false, destination: c.destination })
      .child({ module: 'rules' })
      .info({ n: 2 }, 'tick');
    const event = JSON.parse(c.text().trim()) as Record<string, unknown>;
    expect(event).toMatchObject({ level: 30, module: 'rules', n: 2, msg: 'tick', svc: 'heatwatch' });
  });

  it('writes one coloured line per event when pretty', () => {
    const c = capture();
    const log = createLogger('info', { pretty: true, colour: true, destination: c.destination });
    log.child({ module: 'rules' }).warn({ n: 2 }, 'tick');
    log.debug('not at info');
    const lines = c.text().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\S*\d\d:\d\d:\d\d\.\d{3}\S* \S*WARN/);
    expect(lines[0]).toContain(`${ESC}33m`);
    expect(lines[0]).toContain('rules:');
    expect(lines[0]).toContain('tick');
  });

  it('is pretty only for a terminal outside CI, unless HEATWATCH_LOG_FORMAT says otherwise', () => {
    expect(wantsPretty({ isTTY: true }, {})).toBe(true);
    expect(wantsPretty({ isTTY: false }, {})).toBe(false);
    expect(wantsPretty({}, {})).toBe(false);
    expect(wantsPretty({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(wantsPretty({ isTTY: true }, { HEATWATCH_LOG_FORMAT: 'json' })).toBe(false);
    expect(wantsPretty({ isTTY: false }, { HEATWATCH_LOG_FORMAT: 'pretty' })).toBe(true);
  });

  it('colours only a terminal, and honours NO_COLOR and FORCE_COLOR', () => {
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantsColour({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
  });
});
