/**
 * Tiled denoising bookkeeping, checked with a pointwise denoiser (research/longform.md §7 unit-test recipe 1).
 * The sketch UNet is ε̂ = κ_t·x − λ_t·μ(text): each latent frame depends only on itself, so ANY correct tiling
 * (coverage, weights summing to one, SpotDiffusion's offsets undone) must reproduce the untiled result up to float
 * rounding. "Untiled" = the same real graphs with a native window longer than the piece; "tiled" = a short window.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmManifest } from '../../../src-main/contract/manifest.ts';
import { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import { predictTiled, type TiledCondition } from '../../../src-main/engine/longform/tiled-denoise.ts';
import { planMultiDiffusion, planSpotDiffusion, windowProfile } from '../../../src-main/engine/longform/windows.ts';
import { textToAudio, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';
import { f32, sliceBatch, type F32 } from '../../../src-main/engine/tensor/tensor.ts';
import { loadTokenizer } from '../../../src-main/host/packs/load.ts';
import { builtinPack, openBuiltin } from '../../helpers/packs.ts';

let base: AudioLdmModel;
let withWindow: (frames: number) => Promise<AudioLdmModel>;
beforeAll(async () => {
  base = await openBuiltin('sketch');
  const pack = await builtinPack('sketch');
  const tokenizer = await loadTokenizer(pack);
  withWindow = async (frames) => {
    const manifest: AudioLdmManifest = { ...base.manifest, latent: { ...base.manifest.latent, nativeWindowFrames: frames } };
    return new AudioLdmModel(manifest, base.sessions, tokenizer);
  };
});
afterAll(async () => base?.dispose());

/** ε̂ of one condition over the whole latent from separate `predict` calls: ε_u + g·(ε_c − ε_u), or ε_c for g ≤ 1. */
async function guidedWhole(x: F32, timestep: number, cond: F32, uncond: F32, guidance: number): Promise<Float32Array> {
  const c = (await base.predict(x, timestep, cond)).data;
  if (guidance <= 1) return c;
  const u = (await base.predict(x, timestep, uncond)).data;
  return c.map((ci, i) => u[i] + guidance * (ci - u[i]));
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(worst, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return worst / scale;
}

const regions = [
  { start: 0, end: 3, prompt: 'low drone' },
  { start: 3, end: 5.1, prompt: 'noise', guidance: 4 },
  { start: 5.1, end: 7.3, prompt: 'bright tone', negativePrompt: 'hiss' },
];

describe('fused prediction equals the untiled prediction for a pointwise denoiser', () => {
  it.each([
    ['multidiffusion tapered', 'md', 0.5, 'tapered'],
    ['multidiffusion uniform, stride W/4', 'md', 0.25, 'uniform'],
    ['multidiffusion stride = W (no overlap)', 'md', 1, 'tapered'],
    ['spotdiffusion', 'spot', 1, 'uniform'],
  ] as const)('%s, any duration and window', async (_name, method, ratio, weights) => {
    const denoise = (s: Parameters<AudioLdmModel['runUnet']>[0], t: number, l: Parameters<AudioLdmModel['runUnet']>[2]) => base.runUnet(s, t, l);
    const { embeds } = await base.encodePrompts(['', 'low drone', 'noise']);
    for (const [T, W] of [[120, 16], [97 * 8, 64], [40, 40], [33 * 8, 24]] as const) {
      const weightsA = new Float32Array(T).map((_, t) => 0.5 + 0.5 * Math.cos(t / 7));
      const conditions: TiledCondition[] = [
        { cond: sliceBatch(embeds, 1, 2).data, uncond: sliceBatch(embeds, 0, 1).data, guidance: 2.5, weights: weightsA },
        { cond: sliceBatch(embeds, 2, 3).data, uncond: sliceBatch(embeds, 0, 1).data, guidance: 1, weights: weightsA.map((w) => 1 - w) },
      ];
      const x = createRng(T).normals(8 * T * 16);
      // Independent reference: each condition's guided prediction over the whole latent, mixed per frame.
      const full = new Float32Array(x.length);
      for (const c of conditions) {
        const eps = await guidedWhole(f32(x, [1, 8, T, 16]), 601, f32(c.cond, [1, 512]), f32(c.uncond, [1, 512]), c.guidance);
        for (let ch = 0; ch < 8; ch++) for (let t = 0; t < T; t++) for (let f = 0; f < 16; f++) full[(ch * T + t) * 16 + f] += c.weights[t] * eps[(ch * T + t) * 16 + f];
      }
      const starts = method === 'md' ? planMultiDiffusion(T, W, Math.max(1, Math.round(W * ratio))) : planSpotDiffusion(T, W, (T * 13) % W);
      for (const windowBatch of [1, 3]) {
        const tiled = await predictTiled(denoise, { channels: 8, frames: T, bins: 16, window: W, windowBatch }, conditions, x, 601, starts, windowProfile(W, weights));
        expect(maxRelDiff(tiled, full)).toBeLessThan(1e-5);
      }
    }
  });
});

describe('whole pipeline: tiled generation equals untiled generation (sketch UNet is pointwise)', () => {
  const request: TextToAudioRequest = { regions, seconds: 7.3, seed: 11, steps: 6, guidance: 2.5, sampler: 'ddim', eta: 0.7, transition: 1 };
  it.each([
    ['multidiffusion', { method: 'multidiffusion' as const }],
    ['multidiffusion, stride W/4, uniform', { method: 'multidiffusion' as const, tiling: { strideRatio: 0.25, weights: 'uniform' as const } }],
    ['spotdiffusion', { method: 'spotdiffusion' as const }],
    ['auto', { method: 'auto' as const, tiling: { finalMultiSteps: 2, windowBatch: 3 } }],
    ['spotdiffusion with DPM-Solver++', { method: 'spotdiffusion' as const, sampler: 'dpmpp-2m' as const }],
  ])('%s', async (_name, patch) => {
    const untiled = await textToAudio(await withWindow(4096), { ...request, ...patch });
    const tiledModel = await withWindow(32);
    const tiled = await textToAudio(tiledModel, { ...request, ...patch });
    expect(untiled.evaluationsPerStep.every((n) => n <= 3)).toBe(true); // one window × its conditions
    expect(Math.max(...tiled.evaluationsPerStep)).toBeGreaterThan(6);
    expect(maxRelDiff(tiled.latent.data, untiled.latent.data)).toBeLessThan(1e-4);
    expect(maxRelDiff(tiled.audio, untiled.audio)).toBeLessThan(1e-3);
  });

  it('the same seed reproduces a tiled piece bit for bit; another seed (and its Spot offsets) changes it', async () => {
    const model = await withWindow(32);
    const spot = { ...request, method: 'spotdiffusion' as const };
    const a = await textToAudio(model, spot);
    const b = await textToAudio(model, spot);
    const c = await textToAudio(model, { ...spot, seed: 12 });
    expect(Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer))).toBe(true);
    expect(Buffer.from(a.audio.buffer).equals(Buffer.from(c.audio.buffer))).toBe(false);
  });

  it('SpotDiffusion costs about S/W of MultiDiffusion in evaluations', async () => {
    const model = await withWindow(32);
    const single = { ...request, regions: undefined, prompt: 'rain', seconds: 60 };
    const md = await textToAudio(model, { ...single, method: 'multidiffusion', steps: 2 });
    const spot = await textToAudio(model, { ...single, method: 'spotdiffusion', steps: 2 });
    const ratio = spot.evaluationsPerStep[0] / md.evaluationsPerStep[0];
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.6);
  });
});
