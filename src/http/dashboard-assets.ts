import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Errors } from '../core/errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_SRC = resolve(here, '../dashboard');
export const DASHBOARD_DIST = resolve(here, '../../dist/dashboard');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/**
 * Bundles the dashboard (vanilla TypeScript + uPlot) with esbuild into dist/dashboard. Runs when the
 * app is built, so `npm start` and the tests serve fresh assets with no separate build step; takes a
 * fraction of a second.
 */
export async function buildDashboard(outDir = DASHBOARD_DIST): Promise<void> {
  const { build } = await import('esbuild');
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(DASHBOARD_SRC, 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    outfile: join(outDir, 'app.js'),
    logLevel: 'silent',
  });
  const require = createRequire(import.meta.url);
  const uplotCss = join(dirname(require.resolve('uplot')), 'uPlot.min.css');
  copyFileSync(uplotCss, join(outDir, 'uplot.css'));
  copyFileSync(join(DASHBOARD_SRC, 'style.css'), join(outDir, 'style.css'));
  copyFileSync(join(DASHBOARD_SRC, 'index.html'), join(outDir, 'index.html'));
}

/** Serves the built dashboard: `/` is the page, `/assets/<file>` its files (no directory walking). */
export function registerDashboard(app: FastifyInstance, outDir = DASHBOARD_DIST): void {
  const cache = new Map<string, Buffer>();
  const read = (name: string): Buffer | undefined => {
    if (!/^[a-z0-9-]+\.(js|css|html|map|svg)$/.test(name)) return undefined;
    let b = cache.get(name);
    if (!b) {
      const p = join(outDir, name);
      if (!existsSync(p)) return undefined;
      b = readFileSync(p);
      cache.set(name, b);
    }
    return b;
  };
  app.get('/', { config: { access: 'public' } }, async (_req, reply) => {
    const html = read('index.html');
    if (!html) throw Errors.notFound('The dashboard has not been built (dist/dashboard is empty).');
    reply.type(TYPES['.html']!).header('cache-control', 'no-cache');
    return html;
  });
  app.get<{ Params: { file: string } }>(
    '/assets/:file',
    { config: { access: 'public' } },
    async (req, reply) => {
      const body = read(req.params.file);
      if (!body) throw Errors.notFound(`No asset ${req.params.file}.`);
      const ext = req.params.file.slice(req.params.file.lastIndexOf('.'));
      reply.type(TYPES[ext] ?? 'application/octet-stream').header('cache-control', 'no-cache');
      return body;
    },
  );
}
