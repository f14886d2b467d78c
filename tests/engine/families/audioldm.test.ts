/** The audioldm family adapter over the sketch pack's real sessions: length maths, prompt encoding, guidance. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import { predictTiled, type BatchDenoiser } from '../../../src-main/engine/longform/tiled-denoise.ts';
import { windowProfile } from '../../../src-main/engine/longform/windows.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';
import { f32, sliceBatch, type F32 } from '../../../src-main/engine/tensor/tensor.ts';
import { encodeLimited } from '../../../src-main/engine/families/tokens.ts';
import { loadTokenizer } from '../../../src-main/host/packs/load.ts';
import { builtinPack, openBuiltin } from '../../helpers/packs.ts';

let model: AudioLdmModel;
beforeAll(async () => {
  model = await openBuiltin('sketch');
});
afterAll(async () => model?.dispose());

describe('length maths (research/audioldm.md §2, "Recommended")', () => {
  it.each([
    [2.5, 64, 40000],
    [5, 128, 80000],
    [8, 200, 128000],
    [10, 256, 160000],
    [10.24, 256, 163840],
    [20, 504, 320000],
    [0.01, 8, 160],
  ])('%s s → T_lat %i, %i samples', (seconds, frames, samples) => {
    expect(model.latentFramesFor(seconds)).toBe(frames);
    expect(model.samplesFor(seconds)).toBe(samples);
  });

  it('the vocoder returns 160·F + 32 samples for F = 4·T_lat mel frames', async () => {
    const latent = f32(new Float32Array(8 * 16 * 16), [1, 8, 16, 16]);
    const mel = await model.decode(latent);
    expect(mel.dims).toEqual([1, 1, 64, 64]);
    expect((await model.vocode(mel)).dims).toEqual([1, 160 * 64 + 32]);
  });
});

describe('encodePrompts', () => {
  it('returns L2-normalised rows; "" embeds to zero; padding to the batch is inert', async () => {
    const { embeds } = await model.encodePrompts(['', 'low drone', 'bright tone with some noise']);
    const norm = (r: number) => Math.hypot(...sliceBatch(embeds, r, r + 1).data);
    expect(norm(0)).toBe(0);
    expect(norm(1)).toBeCloseTo(1, 6);
    expect(norm(2)).toBeCloseTo(1, 6);
    const alone = await model.encodePrompts(['low drone']);
    expect(Array.from(sliceBatch(embeds, 1, 2).data)).toEqual(Array.from(alone.embeds.data));
  });
});

describe('prompts longer than the tokenizer limit (diffusers: truncation=True keeps </s>)', () => {
  it('cuts the text tokens, keeps <s> … </s> within 512, reports the cut, and embeds like the first 510 words', async () => {
    const words = Array.from({ length: 700 }, (_, i) => (i % 2 === 0 ? 'low' : 'drone'));
    const ids = encodeLimited(await loadTokenizer(await builtinPack('sketch')), words.join(' '), 512, true);
    expect(ids.ids).toHaveLength(512);
    expect(ids.ids[0]).toBe(0);
    expect(ids.ids[511]).toBe(2);
    expect(ids.dropped).toBe(700 - 510);
    const long = await model.encodePrompts([words.join(' ')]);
    const kept = await model.encodePrompts([words.slice(0, 510).join(' ')]);
    expect(long.truncated).toEqual([{ prompt: words.join(' '), maxTokens: 512, droppedTokens: 190 }]);
    expect(kept.truncated).toEqual([]);
    expect(Array.from(long.embeds.data)).toEqual(Array.from(kept.embeds.data));
  });
});

/** The UNet's ε for one latent, conditional branch only: the family's `predict` (audioldm needs no window rows). */
function predictWhole(x: F32, timestep: number, labels: F32): Promise<F32> {
  return model.predict(x, timestep, labels);
}

/**
 * The pipeline's guided prediction of one condition over a latent that is one window: the tiler batches the
 * unconditional and conditional rows into `predict` and combines them with the default (output-space) rule.
 */
async function predictGuided(x: F32, timestep: number, cond: F32, uncond: F32, guidance: number): Promise<F32> {
  const [, C, T, Fq] = x.dims;
  const denoise: BatchDenoiser = (sample, t, labels) => model.predict(sample, t, labels);
  const condition = { cond: cond.data, uncond: uncond.data, guidance, weights: new Float32Array(T).fill(1) };
  const out = await predictTiled(denoise, { channels: C, frames: T, bins: Fq, window: T, windowBatch: 1 }, [condition], x.data, timestep, [0], windowProfile(T, 'uniform'));
  return f32(out, x.dims);
}

describe('predict and classifier-free guidance', () => {
  it('g > 1 equals ε_u + g·(ε_c − ε_u) from separate conditional and unconditional calls', async () => {
    const { embeds } = await model.encodePrompts(['noise', 'low drone']);
    const uncond = sliceBatch(embeds, 0, 1);
    const cond = sliceBatch(embeds, 1, 2);
    const x = f32(createRng(3).normals(8 * 8 * 16), [1, 8, 8, 16]);
    const guided = await predictGuided(x, 501, cond, uncond, 3);
    const epsC = await predictWhole(x, 501, cond);
    const epsU = await predictWhole(x, 501, uncond);
    let worst = 0;
    for (let i = 0; i < guided.data.length; i++) worst = Math.max(worst, Math.abs(guided.data[i] - (epsU.data[i] + 3 * (epsC.data[i] - epsU.data[i]))));
    expect(worst).toBeLessThan(1e-5);
    expect(Array.from(epsC.data)).not.toEqual(Array.from(epsU.data));
  });

  it('g ≤ 1 uses the conditional branch only: the unconditional embedding has no effect', async () => {
    const { embeds } = await model.encodePrompts(['', 'wind', 'rain']);
    const x = f32(createRng(4).normals(8 * 8 * 16), [1, 8, 8, 16]);
    const cond = sliceBatch(embeds, 2, 3);
    const a = await predictGuided(x, 1, cond, sliceBatch(embeds, 0, 1), 0.5);
    const b = await predictGuided(x, 1, cond, sliceBatch(embeds, 1, 2), 0.5);
    expect(a.dims).toEqual([1, 8, 8, 16]);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });
});
