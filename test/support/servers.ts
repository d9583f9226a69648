import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';

/** Under CI=true a missing server fails the run; on a developer's machine it skips with a reason. */
export const inCI = process.env.CI === 'true';

/**
 * Returns true when the named server can be used. Outside CI a missing one prints why the suite is
 * skipped; under CI it throws, so a missing server can never pass silently.
 */
export function serverAvailable(name: string, available: boolean, hint: string): boolean {
  if (available) return true;
  const msg = `${name} is not available: ${hint}`;
  if (inCI) throw new Error(`CI=true and ${msg}`);
  console.warn(`skipping: ${msg}`);
  return false;
}

export const hasCommand = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A free TCP port on loopback (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on host:port within timeoutMs. */
export async function portOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const t = setTimeout(() => {
      s.destroy();
      resolve(false);
    }, timeoutMs);
    s.on('connect', () => {
      clearTimeout(t);
      s.end();
      resolve(true);
    });
    s.on('error', () => {
      clearTimeout(t);
      resolve(false);
    });
  });
}

export const uniqueRoot = (prefix = 'hwtest'): string =>
  `${prefix}${process.pid}x${Math.floor(Math.random() * 1e9)}`;
