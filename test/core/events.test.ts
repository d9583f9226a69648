import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

describe('the event map (src/core/events.ts)', () => {
  it('every event is emitted, and has a listener in heatwatch or is documented as an extension point', () => {
    const text = readFileSync('src/core/events.ts', 'utf8');
    const body = text.slice(text.indexOf('export interface HeatEvents {'));
    // Each member with the doc comment right above it.
    const members = [...body.matchAll(/(?:\/\*\*([\s\S]*?)\*\/\s*)?\n {2}(\w+):/g)].map((m) => ({
      name: m[2]!,
      doc: m[1] ?? '',
    }));
    expect(members.length).toBeGreaterThan(8);
    const src = sourceFiles('src')
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const problems = members.flatMap(({ name, doc }) => {
      const emitted = new RegExp(`emit\\(\\s*'${name}'`).test(src);
      const heard = new RegExp(`\\.on\\(\\s*'${name}'`).test(src);
      const extension = /Extension point/.test(doc);
      if (!emitted) return [`${name}: never emitted`];
      if (!heard && !extension) return [`${name}: nothing listens and it is not marked an extension point`];
      if (heard && extension) return [`${name}: marked an extension point but heatwatch listens to it`];
      return [];
    });
    expect(problems).toEqual([]);
  });
});
