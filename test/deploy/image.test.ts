import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What the runtime image holds, checked without a container engine: the runtime stage copies
 * `src/`, `firmware-sim/` and the production node_modules (`npm prune --omit=dev`), and runs the
 * sources with tsx. So every package those sources import must be a production dependency, and no
 * source may reach outside the copied directories (e.g. into test/ fixtures).
 */
const ROOT = resolve(import.meta.dirname, '../..');
const SHIPPED = ['src', 'firmware-sim'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(p);
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Module specifiers of static imports, `export … from`, and string-literal dynamic imports. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s+['"]([^'"]+)['"]/g))
    out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|[\s;])import\s+['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

const packageName = (spec: string): string =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;

describe('the runtime image', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const files = SHIPPED.flatMap((d) => sourceFiles(join(ROOT, d)));

  it('has every package the shipped sources import among the production dependencies', () => {
    expect(files.length).toBeGreaterThan(20);
    const missing = new Set<string>();
    for (const f of files) {
      for (const spec of specifiers(readFileSync(f, 'utf8'))) {
        if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
        const name = packageName(spec);
        if (!(name in pkg.dependencies)) missing.add(`${relative(ROOT, f)} imports ${name}`);
      }
    }
    // `import type` of a dev package would be erased by tsx, but none is expected in shipped code.
    expect([...missing]).toEqual([]);
  });

  it('ships sources that import nothing outside the directories the image copies', () => {
    const outside: string[] = [];
    for (const f of files) {
      for (const spec of specifiers(readFileSync(f, 'utf8'))) {
        if (!spec.startsWith('.')) continue;
        const target = relative(ROOT, resolve(dirname(f), spec));
        if (!SHIPPED.some((d) => target === d || target.startsWith(`${d}/`)))
          outside.push(`${relative(ROOT, f)} -> ${target}`);
        else if (!existsSync(resolve(dirname(f), spec)))
          outside.push(`${relative(ROOT, f)} -> ${target} (missing)`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('copies only what exists, and runs the entry points the compose file names', () => {
    const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const runtime = df.slice(df.indexOf('AS runtime'));
    for (const m of df.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const src of m[1]!.split(/\s+/)) expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true);
    for (const dir of SHIPPED) expect(runtime).toMatch(new RegExp(`^COPY ${dir} `, 'm'));
    expect(runtime).toContain('COPY --from=build /app/node_modules ./node_modules');
    expect(df).toContain('npm prune --omit=dev');
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "--import", "tsx"\]$/m);
    expect(runtime).toMatch(/^CMD \["src\/main\.ts"\]$/m);
    expect('tsx' in pkg.dependencies).toBe(true);
  });
});
