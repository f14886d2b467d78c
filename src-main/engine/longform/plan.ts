/**
 * The tiling plan of a whole generation (research/longform.md §1–3): for every denoising step, which method runs,
 * where its windows start and how each window's frames are weighted, and how many window × condition evaluations
 * that costs. Pure bookkeeping from the request's numbers and seed: the pipeline's denoise loop only follows it.
 */
import type { TilingMethod, TilingOptions } from '../../contract/generation-settings.ts';
import { planJobs, type TiledCondition } from './tiled-denoise.ts';
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
  tiling: Required<Omit<TilingOptions, 'windowBatch'>>;
  /** The request's seed: SpotDiffusion's offsets come from its RNG stream 2. */
  seed: number;
  /** Each condition's weight per latent frame; a window is evaluated only for conditions with weight inside it. */
  conditions: readonly Pick<TiledCondition, 'weights'>[];
}

/** The windows of one step. */
export interface StepTiling {
  method: 'multidiffusion' | 'spotdiffusion';
  /** First frame of every window. */
  starts: readonly number[];
  /** Weight of each frame inside a window (W values). */
  profile: Float32Array;
}

/** The windows of every step and what they cost. */
export interface TilingPlan {
  /** One entry per step. */
  steps: StepTiling[];
  /** Window × condition evaluations per step. */
  evaluationsPerStep: number[];
  /** Their sum over all steps. */
  totalEvaluations: number;
}

/**
 * Plans every step: MultiDiffusion with stride max(1, round(W·strideRatio)) and the requested window weights, or
 * SpotDiffusion with uniform weights and the step's seeded offset (`auto`: SpotDiffusion, then MultiDiffusion for
 * the last `finalMultiSteps` steps).
 */
export function planTiling(input: TilingPlanInput): TilingPlan {
  const { frames, window, steps, method, tiling, seed, conditions } = input;
  const perStep = methodPerStep(method, steps, tiling.finalMultiSteps);
  const offsets = spotOffsets(seed, steps, window);
  const multiStarts = planMultiDiffusion(frames, window, Math.max(1, Math.round(window * tiling.strideRatio)));
  const profiles = { multidiffusion: windowProfile(window, tiling.weights), spotdiffusion: windowProfile(window, 'uniform') };
  const plan = perStep.map((m, k): StepTiling => ({
    method: m,
    starts: m === 'multidiffusion' ? multiStarts : planSpotDiffusion(frames, window, offsets[k]),
    profile: profiles[m],
  }));
  const evaluationsPerStep = plan.map((s) => planJobs(s.starts, conditions, window).length);
  return { steps: plan, evaluationsPerStep, totalEvaluations: evaluationsPerStep.reduce((a, b) => a + b, 0) };
}
