/**
 * Generation in context (RePaint, Lugmayr et al. 2022, without its resampling rounds): part of the piece is free,
 * the rest is held to a kept latent (the neighbours' takes, or the run a new region extends). After every sampler
 * step the held frames are replaced by the kept latent taken to the sample's level with the family's own forward
 * process (`Scheduler.levelAt`: DDPM noising, or (1 − t)·x₀ + t·ε for rectified flow), blended by a per-frame hold
 * weight that falls from 1 to 0 along a raised cosine inside the free part's edges, so the free frames grow out of
 * the kept ones. At the last level the held frames are the kept latent itself (it is a finished sample).
 */
import type { NoiseLevel } from '../schedulers/index.ts';

/** What the piece keeps: a latent over its T frames and how strongly each frame holds to it. */
export interface LatentContext {
  /** The kept latent [C, T, Fq] (values of frames whose hold is 0 are not read). */
  known: Float32Array;
  /** Per frame: 1 held to `known`, 0 free, in between a ramp (length T). */
  hold: Float32Array;
}

/** A latent's layout [1, C, T, Fq]. */
export interface ContextLayout {
  channels: number;
  frames: number;
  bins: number;
}

/**
 * Hold weights for a piece of `frames` frames whose frames [from, to) are free (fractional bounds allowed: audio
 * seconds × frame rate). Frames before `from` are held only when `before` (kept content exists there), after `to`
 * only when `after`; inside the free span the hold falls from 1 at the edge to 0 over `ramp` frames (raised cosine),
 * so the new content starts exactly where the kept one ends.
 */
export function holdWeights(frames: number, span: { from: number; to: number; ramp: number; before: boolean; after: boolean }): Float32Array {
  const { from, to, ramp, before, after } = span;
  if (!(from >= 0 && from < to && to <= frames + 1e-9)) throw new RangeError(`free frames ${from}–${to} are not a span of the piece's ${frames} frames`);
  const fall = (distance: number): number => (ramp <= 0 || distance >= ramp ? 0 : 0.5 * (1 + Math.cos((Math.PI * distance) / ramp)));
  const hold = new Float32Array(frames);
  for (let t = 0; t < frames; t++) {
    const centre = t + 0.5;
    if (centre < from) hold[t] = before ? 1 : 0;
    else if (centre >= to) hold[t] = after ? 1 : 0;
    else hold[t] = Math.max(before ? fall(centre - from) : 0, after ? fall(to - centre) : 0);
  }
  return hold;
}

/**
 * `sample` with every held frame moved to the kept latent at `level`: x ← h·(signal·x₀ + noise·ε) + (1 − h)·x.
 * `noise` is standard normal noise of the sample's layout (drawn per absolute frame by the caller); at the last level
 * pass `{ signal: 1, noise: 0 }`. Returns a new array.
 */
export function holdToContext(sample: Float32Array, context: LatentContext, level: NoiseLevel, noise: Float32Array, layout: ContextLayout): Float32Array {
  const { channels: C, frames: T, bins: Fq } = layout;
  if (context.hold.length !== T || context.known.length !== sample.length || noise.length !== sample.length) {
    throw new RangeError(`context of ${context.hold.length} frames (${context.known.length} values) does not fit a latent of ${T} frames (${sample.length} values)`);
  }
  const out = sample.slice();
  for (let t = 0; t < T; t++) {
    const h = context.hold[t];
    if (h === 0) continue;
    for (let c = 0; c < C; c++) {
      const base = (c * T + t) * Fq;
      for (let q = 0; q < Fq; q++) {
        const i = base + q;
        const kept = level.signal * context.known[i] + level.noise * noise[i];
        out[i] = h === 1 ? kept : h * kept + (1 - h) * sample[i];
      }
    }
  }
  return out;
}
