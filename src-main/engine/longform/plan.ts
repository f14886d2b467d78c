/**
 * The tiling plan of a whole generation (research/longform.md §1–3): the canvas the windows tile, and for every
 * denoising step which method runs, where its windows start and how each window's frames are weighted, and how many
 * window × condition evaluations that costs. Pure bookkeeping from the request's numbers and seed: the pipeline's
 * denoise loop only follows it.
 *
 * The canvas: SpotDiffusion's tiles that would cross an end of what they tile are clamped to it, so two window
 * edges (W from each end) would sit at the same frames at every step and never heal (issue 12: there the fused
 * prediction has 0.77–0.87× the median amplitude and the latent dips 0.4–1.3 dB). A generation that runs
 * SpotDiffusion on a piece longer than one window therefore denoises a canvas padded by P = W frames beyond both ends
 * (not circular: the padding is latent of its own, with its own noise) and crops the piece out before decoding.
 * P = W is the least padding that works: a clamped end tile's inner edge lies W frames inside the canvas, i.e. at
 * the piece's frame W − P and T − W + P, which is outside (0, T) exactly when P ≥ W; with P = W those fixed edges
 * fall on the piece's ends, and every edge inside the piece moves with the step's offset. The padding costs about
 * two more windows per SpotDiffusion step (the canvas is 2W longer).
 */
import type { TilingMethod, TilingOptions } from '../../contract/generation-settings.ts';
import { JoinLevelMatch } from './regions.ts';
import { planJobs, type PlannedCondition } from './tiled-denoise.ts';
import { methodPerStep, planMultiDiffusion, planSpotDiffusion, spotOffsets, windowProfile } from './windows.ts';

/** What the plan depends on. */
export interface TilingPlanInput {
  /** T: latent frames of the piece. */
  frames: number;
  /** W: frames of each window (≤ frames). */
  window: number;
  /** Denoising steps. */
  steps: number;
  method: TilingMethod;
  /** Stride, MultiDiffusion weights and final MultiDiffusion steps (`windowBatch` does not change the plan). */
  tiling: Required<Omit<TilingOptions, 'windowBatch' | 'levelMatchJoins'>>;
  /** The request's seed: SpotDiffusion's offsets come from its RNG stream 2. */
  seed: number;
  /**
   * Each condition's weight per frame of the canvas ({@link planCanvas}; {@link canvasWeights} extends the piece's);
   * a window is evaluated only for conditions with weight inside it.
   */
  conditions: readonly PlannedCondition[];
  /**
   * Joins are level-matched (predictTiled's `levelMatchJoins`): windows that touch a join frame of the canvas add
   * the baseline jobs of unguided conditions.
   */
  levelMatchJoins?: boolean;
  /**
   * Pad the canvas so SpotDiffusion's end tiles move too (what generations do, see the file's comment). Default
   * false: the canvas is the piece and SpotDiffusion's end tiles are clamped to it.
   */
  padEnds?: boolean;
}

/** The latent the windows tile: the piece, or the piece with `pad` frames of its own beyond both ends. */
export interface TilingCanvas {
  /** Frames before the piece's first frame, and as many after its last (0: the canvas is the piece). */
  pad: number;
  /** Frames of the canvas: the piece's T + 2·pad. Canvas frame c is the piece's frame c − pad. */
  frames: number;
}

/** The windows of one step. */
export interface StepTiling {
  method: 'multidiffusion' | 'spotdiffusion';
  /** First frame of every window, in canvas frames. */
  starts: readonly number[];
  /** Weight of each frame inside a window (W values). */
  profile: Float32Array;
}

/** The canvas, the windows of every step and what they cost. */
export interface TilingPlan {
  canvas: TilingCanvas;
  /** One entry per step. */
  steps: StepTiling[];
  /** Window × condition evaluations per step (the padding's included, and the baseline jobs of level-matched joins). */
  evaluationsPerStep: number[];
  /** Their sum over all steps. */
  totalEvaluations: number;
}

/**
 * The canvas of a generation: padded by W beyond both ends when `padEnds` is set, the piece is longer than one
 * window and at least one step runs SpotDiffusion; else the piece itself (MultiDiffusion-only and single-window
 * generations are untouched). The same canvas serves every step, MultiDiffusion steps of `auto` included.
 */
export function planCanvas(input: Pick<TilingPlanInput, 'frames' | 'window' | 'steps' | 'method' | 'tiling' | 'padEnds'>): TilingCanvas {
  const { frames, window, steps, method, tiling, padEnds = false } = input;
  const spot = methodPerStep(method, steps, tiling.finalMultiSteps).includes('spotdiffusion');
  const pad = padEnds && frames > window && spot ? window : 0;
  return { pad, frames: frames + 2 * pad };
}

/**
 * Regional weights over the canvas: the piece's weights, the first region's condition alone before the piece and
 * the last region's alone after it (where the weights of regions.ts would continue: a transition lies inside the
 * regions it joins, so no ramp reaches past the piece's ends). The piece's frames keep their values bit for bit.
 */
export function canvasWeights(weights: readonly Float32Array[], canvas: TilingCanvas, first: number, last: number): Float32Array[] {
  const { pad, frames } = canvas;
  if (pad === 0) return [...weights];
  return weights.map((w, k) => {
    if (w.length !== frames - 2 * pad) throw new RangeError(`condition ${k} has weights for ${w.length} frames; the piece has ${frames - 2 * pad}`);
    const out = new Float32Array(frames);
    out.set(w, pad);
    if (k === first) out.fill(1, 0, pad);
    if (k === last) out.fill(1, frames - pad);
    return out;
  });
}

/**
 * Plans every step on the canvas ({@link planCanvas}): MultiDiffusion with stride max(1, round(W·strideRatio)) and
 * the requested window weights, or SpotDiffusion with uniform weights and the step's seeded offset (`auto`:
 * SpotDiffusion, then MultiDiffusion for the last `finalMultiSteps` steps).
 */
export function planTiling(input: TilingPlanInput): TilingPlan {
  const { window, steps, method, tiling, seed, conditions } = input;
  const canvas = planCanvas(input);
  const bad = conditions.findIndex((c) => c.weights.length !== canvas.frames);
  if (bad >= 0) {
    throw new RangeError(`condition ${bad} has weights for ${conditions[bad].weights.length} frames; the canvas has ${canvas.frames} (the piece's ${input.frames} + 2 × ${canvas.pad} of padding): extend them with canvasWeights`);
  }
  const perStep = methodPerStep(method, steps, tiling.finalMultiSteps);
  const offsets = spotOffsets(seed, steps, window);
  const multiStarts = planMultiDiffusion(canvas.frames, window, Math.max(1, Math.round(window * tiling.strideRatio)));
  const profiles = { multidiffusion: windowProfile(window, tiling.weights), spotdiffusion: windowProfile(window, 'uniform') };
  const plan = perStep.map((m, k): StepTiling => ({
    method: m,
    starts: m === 'multidiffusion' ? multiStarts : planSpotDiffusion(canvas.frames, window, offsets[k]),
    profile: profiles[m],
  }));
  // The same join frames predictTiled finds: on the canvas, from the canvas weights (channels and bins do not matter).
  const joins = input.levelMatchJoins && conditions.length > 1 ? new JoinLevelMatch(conditions.map((c) => c.weights), { channels: 1, frames: canvas.frames, bins: 1 }) : undefined;
  const evaluationsPerStep = plan.map((s) => planJobs(s.starts, conditions, window, joins).length);
  return { canvas, steps: plan, evaluationsPerStep, totalEvaluations: evaluationsPerStep.reduce((a, b) => a + b, 0) };
}
