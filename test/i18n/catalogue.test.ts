import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { complianceCsv } from '../../src/http/compliance.ts';
import {
  CATALOGUES,
  fromZoneLocal,
  LOCALES,
  pickLocale,
  toZoneLocal,
  translator,
} from '../../src/i18n/index.ts';

const params = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('message catalogues', () => {
  it('every locale has exactly the keys of every other, none empty, with the same parameters', () => {
    const keys = LOCALES.map((l) => Object.keys(CATALOGUES[l]).sort());
    for (const k of keys) expect(k).toEqual(keys[0]);
    for (const key of keys[0]!) {
      const en = CATALOGUES.en[key as keyof typeof CATALOGUES.en];
      for (const l of LOCALES) {
        const v = CATALOGUES[l][key as keyof typeof CATALOGUES.en];
        expect(v.trim(), `${l} ${key}`).not.toBe('');
        expect(params(v), `${l} ${key}`).toEqual(params(en));
      }
    }
  });

  it('every key the dashboard names literally exists in the catalogues', () => {
    const used = new Set<string>();
    for (const f of [...sources('src/dashboard'), 'src/dashboard/index.html']) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z]+\.[\w.]+)'/g)) used.add(m[1]!);
      for (const m of text.matchAll(/data-i18n(?:-\w+)?="([\w.]+)"/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((k) => !(k in CATALOGUES.en));
    expect(missing).toEqual([]);
  });

  it('the position classes carry the heating companies’ own names in Chinese', () => {
    expect(
      ['top', 'ground', 'gable', 'middle'].map((c) => CATALOGUES['zh-CN'][`class.${c}` as 'class.top']),
    ).toEqual(['顶层', '底层', '山墙', '中间']);
  });
});

describe('formatting for people', () => {
  const ts = Date.UTC(2026, 0, 12, 22, 30); // 06:30 the next morning in Beijing
  it('times are in the site time zone, not the machine’s', () => {
    expect(translator('zh-CN', 'Asia/Shanghai').dateTime(ts)).toBe('2026/01/13 06:30');
    expect(translator('en', 'Asia/Shanghai').dateTime(ts)).toBe('01/13/2026, 06:30');
    expect(translator('en', 'UTC').dateTime(ts)).toBe('01/12/2026, 22:30');
  });

  it('temperatures and durations carry their units in each language', () => {
    const zh = translator('zh-CN', 'UTC');
    const en = translator('en', 'UTC');
    expect(zh.tempC(17.456)).toBe('17.5 °C');
    expect(en.tempC(undefined)).toBe('—');
    const d = (42 * 60 + 5) * 60_000;
    expect(en.relative(d)).toBe('in 1 d 18 h');
    expect(zh.relative(d)).toBe('1天18小时后');
    expect(zh.relative(-90 * 60_000)).toBe('已超期1小时30分钟');
    expect(en.pct(0.9731)).toBe('97.3 %');
  });

  it('a browser language picks the nearest supported locale', () => {
    expect(pickLocale('zh-Hans-CN', 'en')).toBe('zh-CN');
    expect(pickLocale('en-GB', 'zh-CN')).toBe('en');
    expect(pickLocale('de-DE', 'zh-CN')).toBe('zh-CN');
  });

  it('the compliance CSV keeps machine headers for scripts and speaks the chosen language to people', () => {
    const r = {
      fromMs: 0,
      toMs: 1,
      bandLowC: 18,
      bandHighC: 24,
      buildings: [
        {
          buildingId: 'n01',
          name: 'North 1',
          substationId: 'ss-north',
          unitHours: 10,
          inBandShare: 0.9,
          belowShare: 0.1,
          aboveShare: 0,
          meanC: 19.2,
        },
      ],
      coldestUnits: [],
    };
    expect(complianceCsv(r).split('\r\n')[0]).toBe(
      'building,name,substation,unit_hours,in_band_share,below_share,above_share,mean_c',
    );
    expect(complianceCsv(r, 'zh-CN').split('\r\n')[0]).toBe(
      '"楼栋","名称","换热站","户时","达标比例","偏低比例","偏高比例","平均 °C"',
    );
    // The figures stay machine-readable in every language.
    expect(complianceCsv(r, 'zh-CN').split('\r\n')[1]).toBe(complianceCsv(r).split('\r\n')[1]);
  });
});

describe('datetime-local values in the site zone', () => {
  it('round-trips an instant through the site wall time, whatever the machine zone', () => {
    const ts = Date.UTC(2026, 0, 12, 22, 30);
    expect(toZoneLocal(ts, 'Asia/Shanghai')).toBe('2026-01-13T06:30');
    expect(fromZoneLocal('2026-01-13T06:30', 'Asia/Shanghai')).toBe(ts);
    expect(fromZoneLocal(toZoneLocal(ts, 'America/New_York'), 'America/New_York')).toBe(ts);
  });
});
