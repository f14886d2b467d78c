/**
 * Seeded Gaussian random numbers: the same seed gives the same numbers on every platform.
 *
 * Algorithm (stable; changing it changes every stored take):
 * - Seeds are integers in [0, 2^32). SplitMix32-style mixing expands the seed into the 128-bit state of
 *   xoshiro128** (Blackman & Vigna 2018), the uniform generator. All of it is 32-bit integer arithmetic with
 *   `Math.imul` and unsigned shifts, which is exact in every JavaScript engine.
 * - Uniforms u ∈ (0, 1) take 53 bits from two outputs: (hi·2^21 + lo>>>11 + 0.5) / 2^53 (never 0 or 1).
 * - Normals by the Box–Muller transform in float64: z0 = √(−2 ln u1)·cos(2π u2), z1 = √(−2 ln u1)·sin(2π u2),
 *   then rounded to float32. NOTE: V8's Math.log/cos/sin are ports of fdlibm and give the same bits on every
 *   platform V8 runs on (Electron, Node); a different JS engine might differ in the last float64 bit.
 */

/** Largest accepted seed + 1. */
export const SEED_LIMIT = 2 ** 32;

/** A stream of seeded random numbers. */
export interface Rng {
  /** Uniform in the open interval (0, 1). */
  uniform(): number;
  /** Standard normal sample. */
  normal(): number;
  /** Fills a new Float32Array of length n with standard normal samples. */
  normals(n: number): Float32Array;
  /** Uniform 32-bit unsigned integer. */
  uint32(): number;
}

/** Throws a RangeError unless `seed` is an integer in [0, 2^32). */
export function checkSeed(seed: number): number {
  if (!Number.isInteger(seed) || seed < 0 || seed >= SEED_LIMIT) {
    throw new RangeError(`seed ${seed} is not an integer in [0, ${SEED_LIMIT - 1}]; pass a whole number such as 42`);
  }
  return seed;
}

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Creates a generator; `stream` selects an independent sequence for the same seed (e.g. per-step noise). */
export function createRng(seed: number, stream = 0): Rng {
  checkSeed(seed);
  const mix = { s: (seed ^ Math.imul(stream + 1, 0x632be5ab)) | 0 };
  let a = splitmix32(mix);
  let b = splitmix32(mix);
  let c = splitmix32(mix);
  let d = splitmix32(mix);
  if ((a | b | c | d) === 0) a = 1;
  let spare: number | undefined;

  const uint32 = (): number => {
    // xoshiro128**: result = rotl(b * 5, 7) * 9
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r;
  };
  const uniform = (): number => {
    const hi = uint32() >>> 11; // 21 bits
    const lo = uint32(); // 32 bits
    return (hi * 2 ** 32 + lo + 0.5) / 2 ** 53;
  };
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const theta = 2 * Math.PI * uniform();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
  const normals = (n: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = normal();
    return out;
  };
  return { uniform, normal, normals, uint32 };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
