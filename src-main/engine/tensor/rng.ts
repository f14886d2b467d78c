/**
 * Seeded Gaussian random numbers: the same seed gives the same numbers on every platform.
 *
 * Algorithm (stable; changing it changes every stored take):
 * - Seeds are integers in [0, 2^32). SplitMix32-style mixing expands the seed into the 128-bit state of
 *   xoshiro128** (Blackman & Vigna 2018), the uniform generator. All of it is 32-bit integer arithmetic with
 *   `Math.imul` and unsigned shifts, which is exact in every JavaScript engine.
 * - Uniforms u ∈ (0, 1) take 53 bits from two outputs: ((a>>>11)·2^32 + b + 0.5) / 2^53 (never 0 or 1).
 * - Normals by Marsaglia's polar method in float64: draw v1, v2 = 2·(x + 0.5)/2^32 − 1 from one 32-bit output
 *   each until 0 < s = v1² + v2² < 1, then z0 = v1·√(−2 ln s / s), z1 = v2·√(−2 ln s / s) (z0 first), rounded
 *   to float32. No trigonometry, one log per pair. NOTE: V8's Math.log is a port of fdlibm and gives the same
 *   bits on every platform V8 runs on (Electron, Node); a different JS engine might differ in the last bit.
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

/** SplitMix32's output function: a bijection on 32-bit integers. */
function finalise(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
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
  return fromState(splitmix32(mix), splitmix32(mix), splitmix32(mix), splitmix32(mix));
}

/**
 * A generator for one latent frame of one kind of noise (the initial noise, step k's noise), keyed by (seed, kind,
 * index, frame). `frame` is the absolute latent frame on the project's timeline, so a piece that is extended or
 * regenerated in part draws the same noise for the frames it keeps. Each of the four state words hashes all four
 * keys through SplitMix32's finaliser (an avalanche bijection), with a different constant per word: neighbouring
 * frames or steps get unrelated states (xoshiro's first outputs follow single state words, so merely distinct
 * states would give correlated first numbers), and for fixed other keys each word is a bijection of the frame.
 */
export function createFrameRng(seed: number, kind: number, index: number, frame: number): Rng {
  checkSeed(seed);
  for (const [name, v] of [['kind', kind], ['index', index], ['frame', frame]] as const) {
    if (!Number.isInteger(v) || v < 0 || v >= SEED_LIMIT) throw new RangeError(`${name} ${v} must be an integer in [0, ${SEED_LIMIT - 1}]`);
  }
  const word = (salt: number): number => finalise(finalise(finalise(finalise(seed ^ salt) ^ kind) ^ index) ^ frame);
  return fromState(word(0x9e3779b9), word(0x3c6ef372), word(0xdaa66d2b), word(0x78dde6e4));
}

/** xoshiro128** over the state (a, b, c, d), with uniforms and polar-method normals (see the file comment). */
function fromState(a: number, b: number, c: number, d: number): Rng {
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
  // 32-bit output → (−1, 1), never exactly ±1 or 0.
  const signed = (): number => ((uint32() + 0.5) / 2 ** 32) * 2 - 1;
  const pair = (out: Float32Array | number[], at: number): void => {
    let v1: number;
    let v2: number;
    let q: number;
    do {
      v1 = signed();
      v2 = signed();
      q = v1 * v1 + v2 * v2;
    } while (q >= 1 || q === 0);
    const f = Math.sqrt((-2 * Math.log(q)) / q);
    out[at] = v1 * f;
    out[at + 1] = v2 * f;
  };
  const buffer = [0, 0];
  const normal = (): number => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    pair(buffer, 0);
    spare = buffer[1];
    return buffer[0];
  };
  /** Same sequence as calling normal() n times (a pending spare is used first). */
  const normals = (n: number): Float32Array => {
    const out = new Float32Array(n);
    let i = 0;
    if (n > 0 && spare !== undefined) out[i++] = normal();
    for (; i + 1 < n; i += 2) pair(out, i);
    if (i < n) out[i] = normal();
    return out;
  };
  return { uniform, normal, normals, uint32 };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
