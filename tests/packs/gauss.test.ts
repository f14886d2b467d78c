/**
 * The sketch-gp test oracle (docs/GAUSS.md): its UNet, an eigendecomposition of the window's covariance baked into
 * the graph, is the exact ε-predictor of the Gaussian process over any window it accepts. Checked against the
 * posterior computed in float64 by a tridiagonal solve of the AR(1) precision (packs/gauss/exact.ts: a different
 * route that shares no code with the graph), for several window lengths, timesteps and prompts in one batch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../src-main/engine/families/audioldm/model.ts';
import { alphasCumprod } from '../../src-main/engine/schedulers/noise-schedule.ts';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { f32 } from '../../src-main/engine/tensor/tensor.ts';
import { ensureBuiltinPack } from '../../src-main/host/packs/builtin.ts';
import { openAudioLdmModel } from '../../src-main/host/packs/load.ts';
import { exactDenoise, correlationOf } from '../../src-main/packs/gauss/exact.ts';
import { GAUSS_PACK_ID, gaussLatentMean, gaussPrior, loadGaussRecipe } from '../../src-main/packs/gauss/index.ts';
import { toeplitzEigen } from '../../src-main/packs/gauss/unet.ts';
import { AUDIOLDM_SCHEDULER } from '../../src-main/packs/types.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

const C = 8;
const Fq = 16;
let model: AudioLdmModel;
beforeAll(async () => {
  model = await openAudioLdmModel(await ensureBuiltinPack(GAUSS_PACK_ID, TEST_CACHE_DIR), { device: 'cpu', intraOpThreads: 1 });
});
afterAll(async () => model?.dispose());

describe('sketch-gp pack', () => {
  it('is small, labelled as a test oracle, and its native window is the recipe\'s', () => {
    const recipe = loadGaussRecipe();
    expect(model.manifest.name).toMatch(/test oracle/);
    expect(model.manifest.latent.nativeWindowFrames).toBe(recipe.nativeWindowFrames);
    expect(recipe.nativeWindowFrames).toBe(128);
  });

  it('stores an orthonormal eigenbasis of the AR(1) Toeplitz matrix', () => {
    const rho = correlationOf(12);
    const T = 40;
    const { values, vectors } = toeplitzEigen(T, rho);
    // U·diag(λ)·Uᵀ reproduces K[t, u] = ρ^|t−u|, and every λ lies in the spectrum bounds of the AR(1) kernel.
    for (const [t, u] of [[0, 0], [3, 17], [39, 0], [20, 21]]) {
      let k = 0;
      for (let j = 0; j < T; j++) k += vectors[t * T + j] * values[j] * vectors[u * T + j];
      expect(k).toBeCloseTo(rho ** Math.abs(t - u), 12);
    }
    for (const l of values) {
      expect(l).toBeGreaterThanOrEqual((1 - rho) / (1 + rho) - 1e-12);
      expect(l).toBeLessThanOrEqual((1 + rho) / (1 - rho) + 1e-12);
    }
  });

  it.each([8, 64, 120, 128])('the UNet over %i frames is the exact posterior ε̂ (float64 tridiagonal solve) to float32 tolerance', async (T) => {
    const prior = gaussPrior();
    const alphas = alphasCumprod(AUDIOLDM_SCHEDULER);
    const { rows } = await model.encodeConditions(['low deep drone', 'rain noise', '']);
    const rng = createRng(T, 9);
    for (const timestep of [1, 241, 601, 981]) {
      // Three rows (one per prompt) with latents at the level the sampler would hold them: √ᾱ·x₀ + √(1−ᾱ)·ε.
      const abar = alphas[timestep];
      const x = rng.normals(3 * C * T * Fq).map((e, i) => Math.sqrt(abar) * 0.5 * Math.sin(i) + Math.sqrt(1 - abar) * e);
      const out = await model.runUnet(f32(x, [3, C, T, Fq]), timestep, rows);
      let worst = 0;
      let scale = 0;
      for (let r = 0; r < 3; r++) {
        const mu = gaussLatentMean(rows.data.subarray(r * 512, (r + 1) * 512));
        const mean = new Float64Array(C * T * Fq).map((_, i) => mu[Math.floor(i / (T * Fq)) * Fq + (i % Fq)]);
        const size = C * T * Fq;
        const { eps } = exactDenoise(prior, { channels: C, frames: T, bins: Fq }, x.subarray(r * size, (r + 1) * size), mean, abar);
        for (let i = 0; i < size; i++) {
          worst = Math.max(worst, Math.abs(out.data[r * size + i] - eps[i]));
          scale = Math.max(scale, Math.abs(eps[i]));
        }
      }
      expect(scale).toBeGreaterThan(0.5);
      expect(worst, `timestep ${timestep}: max |graph − exact| against max |ε̂| ${scale}`).toBeLessThan(2e-5 * Math.max(1, scale));
    }
  }, 60_000);

  it('couples frames: the prediction at one frame moves when a far frame inside the correlation length moves', async () => {
    const T = 32;
    const { rows } = await model.encodeConditions(['rain']);
    const x = new Float32Array(C * T * Fq);
    const a = await model.runUnet(f32(x, [1, C, T, Fq]), 601, rows);
    x[(0 * T + 10) * Fq + 3] = 1; // channel 0, frame 10, bin 3
    const b = await model.runUnet(f32(x, [1, C, T, Fq]), 601, rows);
    const at = (t: number, q: number): number => (0 * T + t) * Fq + q;
    expect(Math.abs(b.data[at(16, 3)] - a.data[at(16, 3)])).toBeGreaterThan(1e-3); // 6 frames away: coupled
    expect(b.data[at(16, 4)]).toBeCloseTo(a.data[at(16, 4)], 6); // another element: independent
  });
});
