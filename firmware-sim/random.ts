/**
 * Seeded randomness for the simulator. Everything random in a run derives from the scenario seed, so
 * the same seed gives the same faults, weather and sensor noise (tests rely on it).
 */

/** FNV-1a over a string, mixed with a seed: a stable 32-bit key for "the random choice named X". */
export function hash32(seed: number, ...parts: Array<string | number>): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (const part of parts) {
    const s = String(part);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= 0x1f; // separator, so ('ab','c') and ('a','bc') differ
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so nearby keys give unrelated values
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) for the named choice. */
export const hash01 = (seed: number, ...parts: Array<string | number>): number =>
  hash32(seed, ...parts) / 4294967296;

/** A standard normal number for the named choice (Box-Muller over two hashed uniforms). */
export function hashGauss(seed: number, ...parts: Array<string | number>): number {
  const u1 = (hash32(seed, ...parts, 'g1') + 1) / 4294967297;
  const u2 = hash32(seed, ...parts, 'g2') / 4294967296;
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

/** A sequential PRNG (mulberry32) for streams of draws such as one sensor's noise. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  gauss(): number {
    const u1 = this.next() || 1e-12;
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Uniform in [a, b). */
  between(a: number, b: number): number {
    return a + (b - a) * this.next();
  }
}

/**
 * Smooth random variation as a pure function of time: normal values at knots `periodH` apart, joined
 * with a smoothstep. Being a function of time (not of how often it is sampled) keeps a run identical
 * whatever the step size.
 */
export function smoothNoise(seed: number, name: string, hours: number, periodH: number): number {
  const x = hours / periodH;
  const k = Math.floor(x);
  const f = x - k;
  const s = f * f * (3 - 2 * f);
  const a = hashGauss(seed, name, k);
  const b = hashGauss(seed, name, k + 1);
  // Interpolation shrinks the variance mid-way; dividing by the norm of the weights keeps it ~1.
  return (a * (1 - s) + b * s) / Math.sqrt((1 - s) ** 2 + s ** 2);
}
