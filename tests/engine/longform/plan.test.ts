/** The tiling plan of a generation: one pure function from the request's numbers and seed to every step's windows. */
import { describe, expect, it } from 'vitest';
import { GENERATION_DEFAULTS } from '../../../src-main/contract/generation-settings.ts';
import { planTiling, type TilingPlanInput } from '../../../src-main/engine/longform/plan.ts';
import { planMultiDiffusion, planSpotDiffusion, spotOffsets, windowProfile } from '../../../src-main/engine/longform/windows.ts';

const everywhere = (frames: number): { weights: Float32Array } => ({ weights: new Float32Array(frames).fill(1) });

function input(patch: Partial<TilingPlanInput>): TilingPlanInput {
  const frames = patch.frames ?? 1000;
  return { frames, window: 256, steps: 6, method: 'auto', tiling: GENERATION_DEFAULTS.tiling, seed: 7, conditions: [everywhere(frames)], ...patch };
}

describe('planTiling', () => {
  it('MultiDiffusion: the same windows every step at stride round(W·ratio), with the requested weights', () => {
    const plan = planTiling(input({ method: 'multidiffusion', tiling: { strideRatio: 0.25, weights: 'tapered', finalMultiSteps: 0 } }));
    const starts = planMultiDiffusion(1000, 256, 64);
    expect(plan.steps).toHaveLength(6);
    for (const step of plan.steps) {
      expect(step.method).toBe('multidiffusion');
      expect(step.starts).toEqual(starts);
      expect(Array.from(step.profile)).toEqual(Array.from(windowProfile(256, 'tapered')));
    }
    expect(plan.evaluationsPerStep).toEqual(Array.from({ length: 6 }, () => starts.length));
    expect(plan.totalEvaluations).toBe(6 * starts.length);
  });

  it('SpotDiffusion: each step tiles at its seeded offset (RNG stream 2) with uniform weights; the seed decides the offsets', () => {
    const plan = planTiling(input({ method: 'spotdiffusion' }));
    const offsets = spotOffsets(7, 6, 256);
    plan.steps.forEach((step, k) => {
      expect(step.method).toBe('spotdiffusion');
      expect(step.starts).toEqual(planSpotDiffusion(1000, 256, offsets[k]));
      expect(Array.from(step.profile)).toEqual(Array.from(windowProfile(256, 'uniform')));
    });
    expect(plan.evaluationsPerStep).toEqual(plan.steps.map((s) => s.starts.length));
    expect(planTiling(input({ method: 'spotdiffusion' }))).toEqual(plan);
    expect(planTiling(input({ method: 'spotdiffusion', seed: 8 })).steps.map((s) => s.starts)).not.toEqual(plan.steps.map((s) => s.starts));
  });

  it('auto: SpotDiffusion, then MultiDiffusion for the last finalMultiSteps steps', () => {
    const plan = planTiling(input({ tiling: { ...GENERATION_DEFAULTS.tiling, finalMultiSteps: 2 } }));
    expect(plan.steps.map((s) => s.method)).toEqual(['spotdiffusion', 'spotdiffusion', 'spotdiffusion', 'spotdiffusion', 'multidiffusion', 'multidiffusion']);
    expect(plan.steps[5].starts).toEqual(planMultiDiffusion(1000, 256, 128));
  });

  it('counts a window only for the conditions with weight inside it', () => {
    // Condition 0 lives in frames [0, 300), condition 1 in [300, 1000): windows straddling 300 evaluate both.
    const first = new Float32Array(1000).fill(0, 300).fill(1, 0, 300);
    const second = first.map((w) => 1 - w);
    const plan = planTiling(input({ method: 'multidiffusion', conditions: [{ weights: first }, { weights: second }] }));
    const starts = planMultiDiffusion(1000, 256, 128);
    const expected = starts.reduce((n, a) => n + (a < 300 ? 1 : 0) + (a + 256 > 300 ? 1 : 0), 0);
    expect(plan.evaluationsPerStep[0]).toBe(expected);
    expect(expected).toBeLessThan(2 * starts.length);
  });

  it('a piece no longer than the window is one window per condition at every step', () => {
    const plan = planTiling(input({ frames: 200, window: 200, conditions: [everywhere(200), everywhere(200)] }));
    for (const step of plan.steps) expect(step.starts).toEqual([0]);
    expect(plan.evaluationsPerStep).toEqual(Array.from({ length: 6 }, () => 2));
  });

  it('a tiny stride ratio still advances by one frame', () => {
    const plan = planTiling(input({ frames: 40, window: 16, method: 'multidiffusion', tiling: { strideRatio: 0.01, weights: 'uniform', finalMultiSteps: 0 } }));
    expect(plan.steps[0].starts).toEqual(Array.from({ length: 25 }, (_, i) => i));
  });
});
