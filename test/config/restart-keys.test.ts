import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RESTART_ONLY_KEYS } from '../../src/config/loader.ts';

/**
 * config/heatwatch.yaml marks with "(restart)" the keys that take effect only at the next start. A
 * reload that changes one must say so (the watcher's `restartNeeded`) rather than look applied, so
 * every marked key must be one of RESTART_ONLY_KEYS or lie below one.
 */
function restartMarkedKeys(yaml: string): string[] {
  const marked: string[] = [];
  const stack: Array<{ indent: number; key: string }> = [];
  let pending = false;
  for (const raw of yaml.split('\n')) {
    const key = /^(\s*)(#\s*)?([A-Za-z][\w]*):(\s|$)/.exec(raw);
    const comment = /^\s*#/.test(raw);
    // A marker belongs to the comment right above a key; a blank line ends it (the file's header).
    if (raw.trim() === '') pending = false;
    if (key && !(key[2] && !pending)) {
      const indent = key[1]!.length;
      while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
      const path = [...stack.map((s) => s.key), key[3]!].join('.');
      if (pending) marked.push(path);
      pending = false;
      if (!key[2]) stack.push({ indent, key: key[3]! });
      if (comment) continue;
    }
    if (comment && raw.includes('(restart)')) pending = true;
  }
  return marked;
}

const covered = (path: string) => RESTART_ONLY_KEYS.some((k) => path === k || path.startsWith(`${k}.`));

describe('keys marked (restart) in config/heatwatch.yaml', () => {
  const marked = restartMarkedKeys(readFileSync('config/heatwatch.yaml', 'utf8'));

  it('are found', () => {
    expect(marked).toEqual(expect.arrayContaining(['role', 'mqtt.mode', 'households.digest.cron']));
  });

  it('are each reported as needing a restart when a reload changes them', () => {
    expect(marked.filter((p) => !covered(p))).toEqual([]);
  });
});
