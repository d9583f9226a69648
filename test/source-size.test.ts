import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** CONTRIBUTING.md "Conventions" 9: no file in src/ over this many lines. */
const MAX_FILE_LINES = 400;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'vendor' ? [] : sourceFiles(path);
    return /\.ts$/.test(e.name) ? [path] : [];
  });
}

/** CONTRIBUTING.md "Conventions" 9: no function in src/ over this many lines. */
const MAX_FUNCTION_LINES = 80;

/**
 * Route tables are declarative: one `fastify.get/post(...)` entry after another, each short. A
 * function named `…Routes` in src/http/routes/ is such a table and is measured by its entries.
 */
const isRouteTable = (file: string, name: string): boolean =>
  file.startsWith('src/http/routes/') && /Routes$/.test(name);

interface FunctionSize {
  file: string;
  key: string;
  lines: number;
}

/** Every function-like node with a body, named by its declaration or the binding it is assigned to. */
function functionSizes(file: string, text: string): FunctionSize[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: FunctionSize[] = [];
  const line = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line;
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) && 'body' in n && n.body) {
      const p = n.parent;
      const name =
        (n.name?.getText(sf) ??
          ((ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p)) && p.name.getText(sf))) ||
        `<anonymous at ${line(n.getStart(sf)) + 1}>`;
      out.push({ file, key: `${file}:${name}`, lines: line(n.end) - line(n.getStart(sf)) + 1 });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

const lineCount = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

describe('source size', () => {
  const sizes = sourceFiles('src').map((f) => ({
    file: relative('.', f).replaceAll('\\', '/'),
    lines: lineCount(readFileSync(f, 'utf8')),
  }));

  it(`no file in src/ is over ${MAX_FILE_LINES} lines`, () => {
    expect(sizes.length).toBeGreaterThan(50);
    const over = sizes.filter((s) => s.lines > MAX_FILE_LINES);
    expect(over).toEqual([]);
  });
});

describe('function size', () => {
  const sizes = sourceFiles('src').flatMap((f) =>
    functionSizes(relative('.', f).replaceAll('\\', '/'), readFileSync(f, 'utf8')),
  );
  const over = sizes.filter(
    (s) => s.lines > MAX_FUNCTION_LINES && !isRouteTable(s.file, s.key.slice(s.file.length + 1)),
  );

  it(`no function in src/ is over ${MAX_FUNCTION_LINES} lines (route tables aside)`, () => {
    expect(sizes.length).toBeGreaterThan(500);
    expect(over).toEqual([]);
  });
});

describe('source boundaries', () => {
  it('src/ does not import the simulator (it is loaded through src/sim/port.ts)', () => {
    const importers = sourceFiles('src').filter((f) =>
      /from\s+['"][./]*firmware-sim\/|import\(\s*['"][./]*firmware-sim\//.test(readFileSync(f, 'utf8')),
    );
    expect(importers).toEqual([]);
  });
});
