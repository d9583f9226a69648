import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { type ConfigChange, ConfigWatcher, diffPaths } from '../../src/config/watcher.ts';
import { silentLogger } from '../../src/core/log.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-watch-'));
  cpSync('config', dir, { recursive: true });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('diffPaths', () => {
  it('names the leaves that differ', () => {
    expect(diffPaths({ a: { b: 1, c: 2 }, d: [1, 2] }, { a: { b: 1, c: 3 }, d: [1, 5] })).toEqual([
      'a.c',
      'd[1]',
    ]);
  });
});

describe('ConfigWatcher', () => {
  function setup() {
    const changes: ConfigChange[] = [];
    const rejects: string[][] = [];
    const w = new ConfigWatcher(
      loadConfig(dir, {}),
      {},
      silentLogger(),
      (c) => changes.push(c),
      (i) => rejects.push(i),
    );
    return { w, changes, rejects };
  }

  it('keeps the last good config when an edit is broken, and says why', () => {
    const { w, changes, rejects } = setup();
    const before = w.config.version;
    writeFileSync(join(dir, 'rules.yaml'), 'requiredTempC: [oops\n');
    expect(w.reload()).toBe(false);
    expect(w.config.version).toBe(before);
    expect(changes).toHaveLength(0);
    expect(rejects[0]?.[0]).toMatch(/^rules\.yaml: line \d+ column \d+: YAML syntax/);
  });

  it('applies a good edit and flags keys that need a restart', () => {
    const { w, changes } = setup();
    writeFileSync(join(dir, 'heatwatch.yaml'), 'site: north\nhttp:\n  port: 9999\n');
    expect(w.reload()).toBe(true);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.changed).toEqual(expect.arrayContaining(['service.site', 'service.http.port']));
    // The new file also drops the demo's http.locale, another restart-only http key.
    expect(changes[0]!.restartNeeded).toContain('service.http.port');
    expect(changes[0]!.restartNeeded).not.toContain('service.site');
    expect(w.config.service.site).toBe('north');
  });

  it('notices an edit on disk by itself', async () => {
    const { w, changes } = setup();
    w.start();
    try {
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(join(dir, 'heatwatch.yaml'), 'site: east\nreloadDebounceMs: 20\n');
      // Up to 20 s: a file-system event and the debounce can take seconds on a busy machine.
      for (let i = 0; i < 400 && changes.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect(changes[0]?.config.service.site).toBe('east');
    } finally {
      w.stop();
    }
  });
});
