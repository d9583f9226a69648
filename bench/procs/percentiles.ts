/** p50/p99/max of a list of latencies in ms (nearest-rank). */
export function percentiles(xs: number[]): { p50Ms: number; p99Ms: number; maxMs: number } {
  if (xs.length === 0) return { p50Ms: Number.NaN, p99Ms: Number.NaN, maxMs: Number.NaN };
  const s = Float64Array.from(xs).sort();
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? Number.NaN;
  return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: s[s.length - 1] ?? Number.NaN };
}
