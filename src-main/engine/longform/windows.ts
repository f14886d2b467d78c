/**
 * Window planning for tiled denoising along time (research/longform.md §1–3). Everything is 1-D bookkeeping on
 * the latent time axis: a window is its first frame; every window spans all channels and frequency bins.
 *
 * | symbol | meaning |
 * |---|---|
 * | T | latent frames of the piece |
 * | W | native window (AudioLDM: 256 frames = 10.24 s) |
 * | S | MultiDiffusion stride |
 * | s_k | SpotDiffusion offset at step k, uniform in [0, W) |
 */
import type { TilingMethod, WindowWeights } from '../../contract/generation-settings.ts';
import { createRng } from '../tensor/rng.ts';

/**
 * MultiDiffusion windows: N = ⌈(T − W)/S⌉ + 1 windows spread evenly, a_i = round(i·(T − W)/(N − 1)), so the last
 * ends exactly at T (no uncovered tail: the official get_views coverage bug, longform.md §2.1) and no gap exceeds S.
 */
export function planMultiDiffusion(frames: number, window: number, stride: number): number[] {
  if (frames <= window) return [0];
  if (!(stride >= 1 && stride <= window)) throw new RangeError(`stride ${stride} must be between 1 and the window (${window} frames)`);
  const count = Math.ceil((frames - window) / stride) + 1;
  return Array.from({ length: count }, (_, i) => Math.round((i * (frames - window)) / (count - 1)));
}

/**
 * SpotDiffusion windows at one step with offset s: non-overlapping tiles a_j = −s + j·W shifted so seams move
 * every step; tiles that would cross either end are clamped to [0, T − W] ("clamped ends", longform.md §3.3 A), so
 * no window wraps around (a circular roll would pull the start and end of the piece together). Duplicates removed.
 * The clamped tiles' inner edges (frames W and T − W) stay put at every step, so generations tile a canvas padded
 * by W beyond both ends (plan.ts#planCanvas), which puts those two edges on the piece's ends.
 */
export function planSpotDiffusion(frames: number, window: number, offset: number): number[] {
  if (frames <= window) return [0];
  const starts = new Set<number>();
  for (let a = -(offset % window); a < frames; a += window) starts.add(Math.min(Math.max(a, 0), frames - window));
  return [...starts].sort((x, y) => x - y);
}

/** One SpotDiffusion offset per step, i.i.d. uniform in [0, W), from the request's seed (RNG stream 2). */
export function spotOffsets(seed: number, steps: number, window: number): number[] {
  const rng = createRng(seed, 2);
  return Array.from({ length: steps }, () => Math.floor(rng.uniform() * window));
}

/**
 * Weight of each frame inside a window. `tapered`: a tent 1 − |2(n + ½)/W − 1|, > 0 everywhere, so outputs near a
 * window's edges (least context) get the least say (longform.md §2.1 failure mode 5); `uniform`: all ones.
 */
export function windowProfile(window: number, kind: WindowWeights): Float32Array {
  const w = new Float32Array(window);
  for (let n = 0; n < window; n++) w[n] = kind === 'uniform' ? 1 : 1 - Math.abs((2 * (n + 0.5)) / window - 1);
  return w;
}

/** Which method runs at each step: `auto` = SpotDiffusion, then MultiDiffusion for the last `finalMulti` steps. */
export function methodPerStep(method: TilingMethod, steps: number, finalMulti: number): Array<'multidiffusion' | 'spotdiffusion'> {
  return Array.from({ length: steps }, (_, k) => {
    if (method !== 'auto') return method;
    return k >= steps - finalMulti ? 'multidiffusion' : 'spotdiffusion';
  });
}
