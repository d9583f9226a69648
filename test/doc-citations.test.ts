import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Comments cite a document's section by its title (CONTRIBUTING.md "Conventions" 8): `docs/<doc>.md "<Title>"`.
 * A renamed heading leaves the citation pointing nowhere, so every one in src/ must name a heading of
 * that document or a bold lead-in (`**Title.**`) of one of its paragraphs.
 */
const CITATION =
  /((?:docs\/[\w.-]+\.md)|README\.md|CONTRIBUTING\.md|BENCHMARKS\.md)(?:'s)?\s*[,(]?\s*(?:sections?\s+)?["“]([^"”]+)["”]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(e.name) ? [path] : [];
  });
}

const norm = (s: string): string =>
  s
    .replace(/[`*]/g, '')
    .trim()
    .replace(/[.:]+$/, '')
    .trim()
    .toLowerCase();

const titlesCache = new Map<string, Set<string> | undefined>();
/** A document's headings and bold lead-ins, normalised; undefined when the file does not exist. */
function titlesOf(doc: string): Set<string> | undefined {
  if (titlesCache.has(doc)) return titlesCache.get(doc);
  let text: string | undefined;
  try {
    text = readFileSync(doc, 'utf8');
  } catch {
    text = undefined;
  }
  const titles = text === undefined ? undefined : new Set<string>();
  for (const line of text?.split('\n') ?? []) {
    const h = /^\s*#+\s+(.*?)\s*#*\s*$/.exec(line);
    if (h?.[1]) titles?.add(norm(h[1]));
    for (const b of line.matchAll(/\*\*(.+?)\*\*/g)) titles?.add(norm(b[1] ?? ''));
  }
  titlesCache.set(doc, titles);
  return titles;
}

/** A citation may name a title in full or its first words ("Scale-out" for "Scale-out: …"). */
const resolves = (titles: Set<string>, title: string): boolean =>
  [...titles].some((t) => t === title || t.startsWith(`${title} `) || t.startsWith(`${title}:`));

describe('section citations in src/', () => {
  it('every docs/<doc>.md "<Title>" names a heading or bold lead-in of that document', () => {
    const broken: string[] = [];
    let seen = 0;
    for (const file of sourceFiles('src')) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        // The next line too, without its comment marker: a title may wrap.
        const next = (lines[i + 1] ?? '').replace(/^\s*(\/\/|\*|#)\s*/, '');
        for (const m of `${line} ${next}`.matchAll(CITATION)) {
          if ((m.index ?? 0) >= line.length) continue;
          const [, doc = '', title = ''] = m;
          seen++;
          const titles = titlesOf(doc);
          if (!titles) broken.push(`${file}:${i + 1}: ${doc} does not exist`);
          else if (!resolves(titles, norm(title))) broken.push(`${file}:${i + 1}: ${doc} "${title}"`);
        }
      });
    }
    expect(seen).toBeGreaterThan(20);
    expect(broken).toEqual([]);
  });
});
