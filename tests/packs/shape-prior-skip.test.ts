/**
 * shape-s's prior skip (packs/shape/unet.ts UnetOptions.priorSkip, on by default since builder revision 2):
 * noise_pred = √(1−ᾱ)·x + γ·UNet(x) keeps DDIM bounded where the bare random UNet diverges (latent peak ≈ 200,
 * clamped to ±10), and the vocoder's scaled output layer (vocoder.ts OUTPUT_GAIN) keeps that latent's audio below
 * tanh's saturation. The bare graph stays buildable (`priorSkip: false`) and is what the parameter count measures.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../src-main/engine/families/audioldm/model.ts';
import { frameNoise, NOISE_KIND } from '../../src-main/engine/longform/noise.ts';
import { textToAudio, type TextToAudioResult } from '../../src-main/engine/pipelines/text-to-audio.ts';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { openAudioLdmModel } from '../../src-main/host/packs/load.ts';
import { writePack } from '../../src-main/host/packs/write.ts';
import { buildShapePack, shapePackVersion, shapeSizes } from '../../src-main/packs/shape/index.ts';
import { SHAPE_PRIOR_GAMMA, buildUnet } from '../../src-main/packs/shape/unet.ts';
import { openBuiltin } from '../helpers/packs.ts';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

let shape: AudioLdmModel;
beforeAll(async () => {
  shape = await openBuiltin('shape-s');
});
afterAll(async () => shape?.dispose());

const SEED = 7;

/** Peak and RMS of `data`. */
function level(data: ArrayLike<number>): { peak: number; rms: number } {
  let peak = 0;
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    peak = Math.max(peak, Math.abs(data[i]));
    sum += data[i] ** 2;
  }
  return { peak, rms: Math.sqrt(sum / data.length) };
}

/**
 * The share of the final latent's variance that is not proportional to x_T. With γ = 0 the prior alone predicts
 * ε̂ = √(1−ᾱ)·x at every step, so DDIM returns a multiple of x_T: this share is what the UNet's residual (the part
 * that couples frames) contributed.
 */
function residualShare(r: TextToAudioResult): number {
  const [, C, T, Fq] = r.latent.dims;
  const start = frameNoise(SEED, NOISE_KIND.initial, 0, { channels: C, frames: T, bins: Fq }, 0);
  const x = r.latent.data;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = 0; i < x.length; i++) {
    xy += (x[i] - mean) * start[i];
    xx += (x[i] - mean) ** 2;
    yy += start[i] ** 2;
  }
  return 1 - (xy * xy) / (xx * yy);
}

describe('shape-s prior skip: the build', () => {
  it('is the default: the default version names no skip, the bare graph and other γ are builds of their own', () => {
    expect(shapePackVersion({ priorSkip: SHAPE_PRIOR_GAMMA })).toBe(shapePackVersion());
    expect(shapePackVersion({ priorSkip: false })).not.toBe(shapePackVersion());
    expect(shapePackVersion({ priorSkip: false })).toMatch(/\.bare$/);
    expect(shapePackVersion({ priorSkip: 0.2 })).toMatch(/\.skip0\.2$/);
  });

  it('adds constants, not parameters: the UNet counts the same parameters with and without it', () => {
    const bare = buildUnet(shapeSizes(32).unet, createRng(0, 2));
    const skip = buildUnet(shapeSizes(32).unet, createRng(0, 2), { priorSkip: SHAPE_PRIOR_GAMMA });
    expect(skip.parameters).toBe(bare.parameters);
    expect(Buffer.compare(skip.bytes, bare.bytes)).not.toBe(0);
  });
});

describe('the built-in shape-s (prior skip on), guidance 2.5, DDIM', () => {
  it('20 s, 10 steps: the latent stays bounded (|x| < 6, no clamp), and still varies along time', async () => {
    const r = await textToAudio(shape, { prompt: 'rain', seconds: 20, seed: SEED, steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0 });
    const { peak, rms } = level(r.latent.data);
    // Measured: peak 4.25, RMS 0.90 (the bare graph: RMS 9.4 after the ±10 clamp).
    expect(r.clamped).toBe(false);
    expect(peak).toBeLessThan(6);
    expect(rms).toBeGreaterThan(0.3);
    // Real generations on shape-s (10–50 UNet steps, 5–15 s on a busy 2-core host): a timeout of their own.
  }, 300_000);

  it.each([10, 50])('10 s, %i steps: bounded latent, no clamp, audio below saturation, and the UNet still shapes the latent', async (steps) => {
    const r = await textToAudio(shape, { prompt: 'rain', seconds: 10, seed: SEED, steps, guidance: 2.5, sampler: 'ddim', eta: 0 });
    // Measured: latent peak 3.72 (10 steps) and 4.12 (50 steps).
    expect(r.clamped).toBe(false);
    expect(level(r.latent.data).peak).toBeLessThan(6);
    // Measured: audio peak 0.89, RMS 0.22, crest 4.0 (the old output layer: peak 1.000, RMS 0.53, crest 1.9).
    const audio = level(r.audio);
    expect(audio.peak).toBeLessThan(0.99);
    expect(audio.peak / audio.rms).toBeGreaterThan(2);
    expect(audio.rms).toBeGreaterThan(0.02);
    // Measured 0.235 (10 steps) and 0.212 (50 steps); 0 would mean the prior alone made the latent.
    expect(residualShare(r)).toBeGreaterThan(0.1);
  }, 300_000);

  it('the bare graph (priorSkip: false) still diverges to the clamp: the skip is what bounds the default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-shape-bare-'));
    dirs.push(dir);
    const pack = await writePack(buildShapePack({ priorSkip: false, id: 'shape-s-bare' }), join(dir, 'pack'));
    const bare = await openAudioLdmModel(pack, { device: 'cpu', intraOpThreads: 1 });
    try {
      const r = await textToAudio(bare, { prompt: 'rain', seconds: 10, seed: SEED, steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0 });
      // Measured: clamped, RMS 9.4 after the clamp.
      expect(r.clamped).toBe(true);
    } finally {
      await bare.dispose();
    }
  }, 300_000);
});
