/**
 * Noise by absolute latent frame (longform/noise.ts): a piece that starts later, or is longer, draws the same noise
 * for the frames it shares with another piece of the same seed, so extending or regenerating part of a piece keeps
 * the noise of what it keeps. Checked on the noise itself (bit for bit) and end to end on the sketch model, whose
 * denoiser treats every frame alone: the shared frames of two pieces come out the same.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import { frameNoise, NOISE_KIND } from '../../../src-main/engine/longform/noise.ts';
import { textToAudio, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { createFrameRng } from '../../../src-main/engine/tensor/rng.ts';
import { openBuiltin } from '../../helpers/packs.ts';

/** Frames [from, from + count) of a [1, C, T, Fq] latent. */
function framesOf(latent: Float32Array, layout: { channels: number; frames: number; bins: number }, from: number, count: number): Float32Array {
  const { channels: C, frames: T, bins: Fq } = layout;
  const out = new Float32Array(C * count * Fq);
  for (let c = 0; c < C; c++) out.set(latent.subarray((c * T + from) * Fq, (c * T + from + count) * Fq), c * count * Fq);
  return out;
}

describe('frameNoise', () => {
  const layout = { channels: 8, frames: 300, bins: 16 };

  it('a later or shorter canvas draws exactly the frames of a longer one at the same absolute frames', () => {
    const whole = frameNoise(42, NOISE_KIND.initial, 0, layout, 0);
    const part = frameNoise(42, NOISE_KIND.initial, 0, { ...layout, frames: 100 }, 120);
    expect(part).toEqual(framesOf(whole, layout, 120, 100));
    // Frames before the timeline's start (a padded canvas) continue the same field.
    const before = frameNoise(42, NOISE_KIND.initial, 0, { ...layout, frames: 40 }, -20);
    expect(framesOf(before, { ...layout, frames: 40 }, 20, 20)).toEqual(framesOf(whole, layout, 0, 20));
    const prefix = frameNoise(42, NOISE_KIND.initial, 0, { ...layout, frames: 250 }, 0);
    expect(prefix).toEqual(framesOf(whole, layout, 0, 250));
    // Scaled by init_noise_sigma without changing which numbers are drawn.
    expect(frameNoise(42, NOISE_KIND.initial, 0, { ...layout, frames: 10 }, 5, 2)).toEqual(framesOf(whole, layout, 5, 10).map((x) => Math.fround(x * 2)));
  });

  it('seeds, kinds, steps and frames draw different, standard normal numbers', () => {
    const a = frameNoise(42, NOISE_KIND.initial, 0, layout, 0);
    for (const other of [frameNoise(43, NOISE_KIND.initial, 0, layout, 0), frameNoise(42, NOISE_KIND.step, 0, layout, 0), frameNoise(42, NOISE_KIND.step, 1, layout, 0), frameNoise(42, NOISE_KIND.initial, 0, layout, 1)]) {
      let same = 0;
      for (let i = 0; i < a.length; i++) if (a[i] === other[i]) same++;
      expect(same).toBeLessThan(5);
    }
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const variance = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(variance - 1)).toBeLessThan(0.03);
    // Neighbouring frames are independent: lag-1 correlation along time ~ 0.
    let lag = 0;
    const { channels: C, frames: T, bins: Fq } = layout;
    for (let c = 0; c < C; c++) for (let t = 0; t + 1 < T; t++) for (let q = 0; q < Fq; q++) lag += a[(c * T + t) * Fq + q] * a[(c * T + t + 1) * Fq + q];
    expect(Math.abs(lag / (C * (T - 1) * Fq))).toBeLessThan(0.03);
    // The first number of each frame is unrelated across seeds and steps (a generator whose first outputs follow
    // one state word would repeat them).
    const first = (x: Float32Array): number[] => Array.from({ length: T }, (_, t) => x[t * Fq]);
    const correlation = (x: number[], y: number[]): number => x.reduce((sum, v, i) => sum + v * y[i], 0) / Math.sqrt(x.reduce((sum, v) => sum + v * v, 0) * y.reduce((sum, v) => sum + v * v, 0));
    for (const other of [frameNoise(43, NOISE_KIND.initial, 0, layout, 0), frameNoise(42, NOISE_KIND.step, 7, layout, 0)]) {
      expect(Math.abs(correlation(first(a), first(other)))).toBeLessThan(0.25);
    }
  });

  it('refuses a frame, kind or step outside 32 bits, naming it', () => {
    expect(() => createFrameRng(1, 0, 0, -1)).toThrow(/frame -1 must be an integer in \[0, 4294967295\]/);
    expect(() => createFrameRng(1, 0, 1.5, 0)).toThrow(/index 1\.5/);
  });
});

describe('pieces of one seed share the noise of their shared frames (sketch, real sessions)', () => {
  let sketch: AudioLdmModel;
  beforeAll(async () => {
    sketch = await openBuiltin('sketch');
  });
  afterAll(async () => sketch?.dispose());

  const base: TextToAudioRequest = { seconds: 20, seed: 8, steps: 6, guidance: 2.5, sampler: 'ddim', eta: 1, prompt: 'rain' };

  it('a piece lengthened, or regenerated from a later start, has the same latent where they overlap (η = 1: step noise too)', async () => {
    const fps = sketch.geometry.framesPerSecond;
    const long = await textToAudio(sketch, { ...base, seconds: 30 });
    const short = await textToAudio(sketch, base);
    const T = (r: { latent: { dims: readonly number[] } }) => r.latent.dims[2];
    const layoutOf = (r: typeof long) => ({ channels: r.latent.dims[1], frames: T(r), bins: r.latent.dims[3] });
    const shared = T(short) - 1;
    const a = framesOf(long.latent.data, layoutOf(long), 0, shared);
    const b = framesOf(short.latent.data, layoutOf(short), 0, shared);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    expect(worst).toBeLessThan(1e-4);

    // A piece starting 8 s later (a whole number of frames) matches the long piece from that frame on.
    const offset = Math.round(8 * fps);
    const later = await textToAudio(sketch, { ...base, seconds: 12, start: offset / fps });
    const count = T(later) - 1;
    const c = framesOf(long.latent.data, layoutOf(long), offset, count);
    const d = framesOf(later.latent.data, layoutOf(later), 0, count);
    worst = 0;
    for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i] - d[i]));
    expect(worst).toBeLessThan(1e-4);
    // And differs from a piece of the same length at the start (the noise moved with it).
    const atZero = await textToAudio(sketch, { ...base, seconds: 12 });
    const e = framesOf(atZero.latent.data, layoutOf(atZero), 0, count);
    let diff = 0;
    for (let i = 0; i < d.length; i++) diff = Math.max(diff, Math.abs(d[i] - e[i]));
    expect(diff).toBeGreaterThan(0.1);
  }, 120_000);
});
