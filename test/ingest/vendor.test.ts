import { describe, expect, it } from 'vitest';
import { vendorDecoder } from '../../src/ingest/vendor/models.ts';
import { loadVendorFixtures } from './uplink-fixtures.ts';

describe('vendor payload decoders: one fixture per payload variant', () => {
  const fixtures = loadVendorFixtures();
  it('has accepted and refused variants for both vendors', () => {
    for (const vendor of ['elsys', 'milesight']) {
      const mine = fixtures.filter((f) => f.name.startsWith(`${vendor}-`));
      expect(mine.some((f) => 'refused' in f.expect)).toBe(true);
      expect(mine.some((f) => !('refused' in f.expect))).toBe(true);
    }
  });
  for (const f of fixtures)
    it(`${f.name} (${f.model}: ${f.hex || 'empty'})`, () => {
      const decoder = vendorDecoder(f.model);
      expect(decoder, f.model).toBeDefined();
      const r = decoder!(Buffer.from(f.hex, 'hex'));
      if ('refused' in f.expect) {
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.detail).toContain(f.expect.refused);
      } else {
        expect(r).toEqual({ ok: true, value: f.expect });
      }
    });

  it('reads every prefix of a good payload as what it holds: whole records, or refused as truncated', () => {
    const cases = [
      {
        model: 'elsys-ers',
        hex: '0100e202290400270506060308070d62',
        tempC: 22.6,
        ends: [3, 5, 8, 10, 13, 16],
      },
      { model: 'milesight-em300-th', hex: '01755c03673401046865', tempC: 30.8, ends: [3, 7, 10] },
    ];
    for (const c of cases) {
      const full = Buffer.from(c.hex, 'hex');
      for (let n = 1; n < full.length; n++) {
        const r = vendorDecoder(c.model)!(full.subarray(0, n));
        const label = `${c.model} cut at ${n}`;
        if (!c.ends.includes(n)) {
          expect(r.ok, label).toBe(false);
          if (!r.ok) expect(r.detail, label).toMatch(/truncated|lone byte/);
        } else if (r.ok) expect(r.value.tempC, label).toBe(c.tempC);
        else expect(r.detail, label).toContain('no temperature');
      }
    }
  });

  it('knows no model it has no decoder for', () => {
    expect(vendorDecoder('acme-9000')).toBeUndefined();
    expect(vendorDecoder('__proto__')).toBeUndefined();
    expect(vendorDecoder(undefined)).toBeUndefined();
  });
});
