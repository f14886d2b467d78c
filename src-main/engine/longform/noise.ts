/**
 * Noise by absolute latent frame: the initial noise x_T and each step's noise of a stochastic sampler are drawn per
 * latent frame from (seed, kind, step, absolute frame) (tensor/rng.ts `createFrameRng`), not as one stream over the
 * piece. A piece that starts at frame F of the project's timeline draws for its frame t exactly what a longer piece
 * with the same seed draws for its frame F + t: extending a piece, or regenerating part of it, keeps the noise of
 * every frame it keeps: the ground for extending and regenerating in context.
 */
import { createFrameRng } from '../tensor/rng.ts';

/**
 * Absolute frames are keyed from this bias, so frames before the timeline's start (a canvas padded before a piece
 * at 0 s, or extended backwards) have noise of their own too.
 */
const FRAME_BIAS = 2 ** 31;

/**
 * What the noise is for: the starting latent, the fresh noise a stochastic sampler adds at step `index`, or the noise
 * that takes a kept latent to level `index` (in-context regeneration, variations); in RePaint's resampling rounds, the
 * noise that takes a sample back up one level and the step noise of the repeated steps (index `roundIndex(k, r)`).
 */
export const NOISE_KIND = { initial: 0, step: 1, context: 2, resample: 3, resampleStep: 4 } as const;

/** The noise index of round `round` (≥ 1) of step `step`: distinct for every step and round. */
export function roundIndex(step: number, round: number): number {
  return step * 1024 + round;
}

/** A latent's layout [1, C, T, Fq] (T frames along time). */
export interface NoiseLayout {
  channels: number;
  frames: number;
  bins: number;
}

/**
 * Standard normal noise for a latent [1, C, T, Fq] whose frame 0 is absolute frame `origin` (negative before the
 * timeline's start), times `scale`. Each frame's C·Fq values come from its own generator, in (c, q) order.
 */
export function frameNoise(seed: number, kind: number, index: number, layout: NoiseLayout, origin: number, scale = 1): Float32Array {
  const { channels: C, frames: T, bins: Fq } = layout;
  const out = new Float32Array(C * T * Fq);
  for (let t = 0; t < T; t++) {
    const values = createFrameRng(seed, kind, index, FRAME_BIAS + origin + t).normals(C * Fq);
    for (let c = 0; c < C; c++) {
      const row = values.subarray(c * Fq, (c + 1) * Fq);
      const at = (c * T + t) * Fq;
      if (scale === 1) out.set(row, at);
      else for (let q = 0; q < Fq; q++) out[at + q] = row[q] * scale;
    }
  }
  return out;
}
