/** Dotted paths of every leaf that differs between two plain config objects (for reload reports). */
export function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (Object.is(a, b)) return [];
  const isObj = (x: unknown): x is Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const out: string[] = [];
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      out.push(...changedKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b) && JSON.stringify(a) === JSON.stringify(b)) return [];
  return [prefix || '(root)'];
}
