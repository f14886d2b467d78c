/** The tiling plan of a generation: one pure function from the request's numbers and seed to every step's windows. */
import { describe, expect, it } from 'vitest';
import { GENERATION_DEFAULTS } from '../../../src-main/contract/generation-settings.ts';
import { canvasWeights, planCanvas, planTiling, type TilingPlan, type TilingPlanInput } from '../../../src-main/engine/longform/plan.ts';
import { planJobs } from '../../../src-main/engine/longform/tiled-denoise.ts';
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

/** Window edges inside the piece (0, T) at each step, in the piece's frames. */
function edgesPerStep(plan: TilingPlan, frames: number, window: number): Set<number>[] {
  return plan.steps.map((step) => new Set(step.starts.flatMap((a) => [a - plan.canvas.pad, a - plan.canvas.pad + window]).filter((e) => e > 0 && e < frames)));
}

/** Frames of (0, T) that are a window edge at every step. */
function fixedEdges(plan: TilingPlan, frames: number, window: number): number[] {
  const [first, ...rest] = edgesPerStep(plan, frames, window);
  return [...first].filter((e) => rest.every((edges) => edges.has(e))).sort((a, b) => a - b);
}

describe('the padded canvas (padEnds): SpotDiffusion\'s end tiles move', () => {
  const padded = (patch: Partial<TilingPlanInput>): TilingPlanInput => {
    const canvas = planCanvas({ ...input(patch), padEnds: true });
    return input({ ...patch, padEnds: true, conditions: [everywhere(canvas.frames)] });
  };

  it('pads by W beyond both ends exactly when a step runs SpotDiffusion on a piece longer than one window', () => {
    const tiling = GENERATION_DEFAULTS.tiling;
    expect(planCanvas({ frames: 1000, window: 256, steps: 6, method: 'spotdiffusion', tiling, padEnds: true })).toEqual({ pad: 256, frames: 1512 });
    expect(planCanvas({ frames: 1000, window: 256, steps: 6, method: 'auto', tiling: { ...tiling, finalMultiSteps: 5 }, padEnds: true })).toEqual({ pad: 256, frames: 1512 });
    // MultiDiffusion only (also `auto` whose final MultiDiffusion steps are all of them), one window, or no padEnds.
    expect(planCanvas({ frames: 1000, window: 256, steps: 6, method: 'multidiffusion', tiling, padEnds: true })).toEqual({ pad: 0, frames: 1000 });
    expect(planCanvas({ frames: 1000, window: 256, steps: 6, method: 'auto', tiling: { ...tiling, finalMultiSteps: 6 }, padEnds: true })).toEqual({ pad: 0, frames: 1000 });
    expect(planCanvas({ frames: 256, window: 256, steps: 6, method: 'spotdiffusion', tiling, padEnds: true })).toEqual({ pad: 0, frames: 256 });
    expect(planCanvas({ frames: 1000, window: 256, steps: 6, method: 'spotdiffusion', tiling })).toEqual({ pad: 0, frames: 1000 });
  });

  it.each([257, 700, 1000, 1500, 4504])('T=%i: no frame inside the piece is a window edge at every step (unpadded: frames W and T − W are)', (T) => {
    const W = 256;
    const steps = 40;
    const clamped = planTiling(input({ frames: T, steps, method: 'spotdiffusion' }));
    expect(fixedEdges(clamped, T, W)).toEqual([...new Set([W, T - W])].sort((a, b) => a - b));
    const plan = planTiling(padded({ frames: T, steps, method: 'spotdiffusion' }));
    expect(plan.canvas).toEqual({ pad: W, frames: T + 2 * W });
    expect(fixedEdges(plan, T, W)).toEqual([]);
    // Every step still covers the whole canvas with windows inside it, and moves its edges by the seeded offset.
    const offsets = spotOffsets(7, steps, W);
    plan.steps.forEach((step, k) => {
      expect(step.starts).toEqual(planSpotDiffusion(T + 2 * W, W, offsets[k]));
      expect(step.starts.every((a) => a >= 0 && a + W <= T + 2 * W)).toBe(true);
      const covered = new Uint8Array(T + 2 * W);
      for (const a of step.starts) covered.fill(1, a, a + W);
      expect(covered.every((c) => c === 1)).toBe(true);
    });
  });

  it('auto: the final MultiDiffusion steps tile the same padded canvas', () => {
    const plan = planTiling(padded({ steps: 6, tiling: { ...GENERATION_DEFAULTS.tiling, finalMultiSteps: 2 } }));
    expect(plan.canvas.frames).toBe(1512);
    expect(plan.steps[4].starts).toEqual(planMultiDiffusion(1512, 256, 128));
    expect(plan.steps[5].starts).toEqual(planMultiDiffusion(1512, 256, 128));
  });

  it('counts the padding\'s evaluations: two more windows per SpotDiffusion step, honest totals', () => {
    const T = 1500;
    const clamped = planTiling(input({ frames: T, steps: 30, method: 'spotdiffusion' }));
    const plan = planTiling(padded({ frames: T, steps: 30, method: 'spotdiffusion' }));
    plan.evaluationsPerStep.forEach((n, k) => expect(n).toBe(clamped.evaluationsPerStep[k] + 2));
    expect(plan.totalEvaluations).toBe(plan.evaluationsPerStep.reduce((a, b) => a + b, 0));
  });

  it('regional weights continue past the ends: the first region\'s condition alone before the piece, the last\'s after', () => {
    const T = 600;
    const canvas = planCanvas({ frames: T, window: 256, steps: 4, method: 'spotdiffusion', tiling: GENERATION_DEFAULTS.tiling, padEnds: true });
    // Conditions in order of first appearance: A (first region), B (middle), C (last region).
    const a = new Float32Array(T).map((_, t) => (t < 200 ? 1 : t < 220 ? (220 - t) / 20 : 0));
    const c = new Float32Array(T).map((_, t) => (t >= 420 ? 1 : t >= 400 ? (t - 400) / 20 : 0));
    const b = a.map((w, t) => 1 - w - c[t]);
    const out = canvasWeights([a, b, c], canvas, 0, 2);
    expect(out.map((w) => w.length)).toEqual([T + 512, T + 512, T + 512]);
    [a, b, c].forEach((w, k) => expect(Buffer.from(out[k].buffer, 256 * 4, T * 4).equals(Buffer.from(w.buffer))).toBe(true));
    for (let t = 0; t < 256; t++) expect([out[0][t], out[1][t], out[2][t]]).toEqual([1, 0, 0]);
    for (let t = 256 + T; t < T + 512; t++) expect([out[0][t], out[1][t], out[2][t]]).toEqual([0, 0, 1]);
    // One condition for the whole piece (first = last) owns both paddings; no padding: the weights themselves.
    expect(Array.from(canvasWeights([new Float32Array(T).fill(1)], canvas, 0, 0)[0]).every((w) => w === 1)).toBe(true);
    expect(canvasWeights([a, b, c], { pad: 0, frames: T }, 0, 2)).toEqual([a, b, c]);
    // A padding window evaluates only the condition that owns the padding.
    const jobs = planJobs([0], out.map((weights) => ({ weights })), 256);
    expect(jobs).toEqual([{ start: 0, condition: 0 }]);
  });

  it('refuses weights that do not span the canvas, naming both lengths and the fix', () => {
    expect(() => planTiling(input({ padEnds: true, method: 'spotdiffusion' }))).toThrow(/condition 0 has weights for 1000 frames; the canvas has 1512 \(the piece's 1000 \+ 2 × 256 of padding\): extend them with canvasWeights/);
    expect(() => canvasWeights([new Float32Array(10)], { pad: 4, frames: 20 }, 0, 0)).toThrow(/condition 0 has weights for 10 frames; the piece has 12/);
  });
});
