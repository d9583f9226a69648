import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { Errors } from '../core/errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const DASHBOARD_SRC = resolve(here, '../dashboard');
export const DASHBOARD_DIST = resolve(here, '../../dist/dashboard');

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

/**
 * Serves the built dashboard with @fastify/static: `/` is the page, `/assets/<file>` its files. The
 * plugin brings what a hand-written file route lacks (ETag and conditional requests, HEAD, ranges,
 * refusing dot-files and paths outside the directory). `no-cache`: the browser revalidates, so a new
 * build shows at once.
 */
export async function registerDashboard(app: FastifyInstance, outDir = DASHBOARD_DIST): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await app.register(fastifyStatic, {
    root: outDir,
    prefix: '/assets/',
    index: false,
    cacheControl: false,
    // The files are listed when the app starts (the dashboard is built before); no directory walk per request.
    wildcard: false,
    setHeaders: (res) => res.header('cache-control', 'no-cache'),
  });
  app.get('/', { config: { access: 'public' } }, async (_req, reply) => {
    if (!existsSync(join(outDir, 'index.html')))
      throw Errors.notFound('The dashboard has not been built (dist/dashboard is empty).');
    return reply.sendFile('index.html');
  });
}
