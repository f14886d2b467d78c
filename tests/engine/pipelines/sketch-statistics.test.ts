/**
 * Sampler + guidance + graph, end to end through real ORT sessions: with the sketch pack's closed-form
 * ε-predictor for N(μ(text), s²I), the DDIM recursion is affine in x, so the mean and variance of the final
 * latent can be propagated exactly in float64. Over 64 seeds the empirical statistics must agree with them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import { textToAudio } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { AUDIOLDM_SCHEDULER } from '../../../src-main/packs/types.ts';
import { loadSketchRecipe, wordTemplate } from '../../../src-main/packs/sketch/index.ts';
import { openBuiltin } from '../../helpers/packs.ts';

const SEEDS = 64;
const SECONDS = 0.32; // T = 8 latent frames: 8 × 64 = 512 samples per latent element (channel, freq)
const recipe = loadSketchRecipe();

/** μ(text) from the recipe: the normalised word-count vector times each word's latent mean (independent of the graph code). */
function latentMean(words: string[]): Float64Array {
  const mu = new Float64Array(128);
  if (words.length === 0) return mu;
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  const norm = Math.sqrt([...counts.values()].reduce((s, c) => s + c * c, 0));
  for (const [w, c] of counts) {
    const s = wordTemplate(recipe, w);
    for (let m = 0; m < 64; m++) {
      const v = ((c / norm) * s[m]) / (2 * recipe.melPerLatent);
      mu[2 * m] += v;
      mu[2 * m + 1] += v;
    }
  }
  return mu;
}

/** ᾱ from research/audioldm.md §4, recomputed here in float64. */
function alphaBar(): Float64Array {
  const { betaStart, betaEnd, trainTimesteps } = AUDIOLDM_SCHEDULER;
  const out = new Float64Array(trainTimesteps);
  let prod = 1;
  for (let i = 0; i < trainTimesteps; i++) {
    const b = (Math.sqrt(betaStart) + (i * (Math.sqrt(betaEnd) - Math.sqrt(betaStart))) / (trainTimesteps - 1)) ** 2;
    prod *= 1 - b;
    out[i] = prod;
  }
  return out;
}

/**
 * Propagates mean and variance of one latent element through `steps` DDIM steps (leading spacing, offset 1,
 * ᾱ_final = ᾱ_0) with ε̂ = κ_t·x − κ_t·√ᾱ_t·μ_g, κ_t = √(1−ᾱ_t)/(ᾱ_t s² + 1 − ᾱ_t).
 */
function propagate(steps: number, eta: number, muGuided: number): { mean: number; variance: number } {
  const ab = alphaBar();
  const r = Math.floor(1000 / steps);
  const s2 = recipe.latentStd ** 2;
  let mean = 0;
  let variance = 1;
  for (let k = 0; k < steps; k++) {
    const t = (steps - 1 - k) * r + 1;
    const at = ab[t];
    const ap = t - r >= 0 ? ab[t - r] : ab[0];
    const sigma = eta * Math.sqrt((1 - ap) / (1 - at)) * Math.sqrt(1 - at / ap);
    const kappa = Math.sqrt(1 - at) / (at * s2 + 1 - at);
    const lambda = kappa * Math.sqrt(at);
    // x' = √a_p·(x − √(1−a_t)ε)/√a_t + √(1−a_p−σ²)·ε + σz  =  A·x + B·ε + σz
    const A = Math.sqrt(ap) / Math.sqrt(at);
    const B = Math.sqrt(1 - ap - sigma * sigma) - (Math.sqrt(ap) * Math.sqrt(1 - at)) / Math.sqrt(at);
    mean = (A + B * kappa) * mean - B * lambda * muGuided;
    variance = (A + B * kappa) ** 2 * variance + sigma * sigma;
  }
  return { mean, variance };
}

let model: AudioLdmModel;
beforeAll(async () => {
  model = await openBuiltin('sketch');
});
afterAll(async () => model?.dispose());

describe.each([
  { name: 'DDIM η=0, 10 steps, g=2.5, no negative prompt', prompt: 'low drone', negative: '', steps: 10, eta: 0, guidance: 2.5 },
  { name: 'DDIM η=1, 20 steps, g=3, negative prompt', prompt: 'bright tone', negative: 'noise', steps: 20, eta: 1, guidance: 3 },
  { name: 'DDIM η=0, 10 steps, g=1 (guidance off)', prompt: 'rain', negative: 'wind', steps: 10, eta: 0, guidance: 1 },
])('sketch latent statistics: $name', ({ prompt, negative, steps, eta, guidance }) => {
  it('matches the analytic mean μ_u + g·(μ_c − μ_u) and variance per latent element', async () => {
    const samples: Float32Array[] = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      const r = await textToAudio(model, { prompt, negativePrompt: negative, seconds: SECONDS, seed, steps, guidance, sampler: 'ddim', eta });
      samples.push(r.latent.data);
    }
    const [, C, T, F] = (await textToAudio(model, { prompt, seconds: SECONDS, seed: 0, steps: 1, guidance, sampler: 'ddim', eta: 0 })).latent.dims;
    const muC = latentMean(prompt.split(' '));
    const muU = latentMean(negative ? negative.split(' ') : []);
    const g = guidance > 1 ? guidance : 1; // guidance ≤ 1 runs the conditional branch only
    const n = SEEDS * T;
    let worstMean = 0;
    let worstVar = 0;
    for (let c = 0; c < C; c++) {
      for (let f = 0; f < F; f++) {
        const j = c * F + f;
        const muG = guidance > 1 ? muU[j] + g * (muC[j] - muU[j]) : muC[j];
        const expected = propagate(steps, eta, muG);
        let sum = 0;
        let sq = 0;
        for (const s of samples) {
          for (let t = 0; t < T; t++) {
            const x = s[(c * T + t) * F + f];
            sum += x;
            sq += x * x;
          }
        }
        const mean = sum / n;
        const variance = (sq - n * mean * mean) / (n - 1);
        // 5-sigma bounds: standard error of the mean √(v/n), of the variance v·√(2/(n−1)).
        const zMean = Math.abs(mean - expected.mean) / Math.sqrt(expected.variance / n);
        const zVar = Math.abs(variance - expected.variance) / (expected.variance * Math.sqrt(2 / (n - 1)));
        worstMean = Math.max(worstMean, zMean);
        worstVar = Math.max(worstVar, zVar);
      }
    }
    expect(worstMean).toBeLessThan(5);
    expect(worstVar).toBeLessThan(5);
  });
});

describe('the analytic propagation itself', () => {
  it('moves the mean to the target and the variance near s² as steps grow (deterministic DDIM)', () => {
    const r = propagate(200, 0, 1.5);
    // Continuous-time limit at ᾱ_final = ᾱ_0: mean √ᾱ_0·μ, variance ᾱ_0 s² + 1 − ᾱ_0.
    const a0 = alphaBar()[0];
    expect(r.mean).toBeCloseTo(Math.sqrt(a0) * 1.5, 2);
    expect(r.variance).toBeCloseTo(a0 * recipe.latentStd ** 2 + 1 - a0, 2);
  });
});
