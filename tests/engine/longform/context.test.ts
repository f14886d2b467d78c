/**
 * Generation in context (longform/context.ts): hold weights, the held-frame replacement, and textToAudio with a
 * kept latent on real sessions (sketch): held frames end exactly as kept, the free span is new.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import { holdToContext, holdWeights, renoise } from '../../../src-main/engine/longform/context.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';
import { textToAudio, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { openBuiltin } from '../../helpers/packs.ts';

describe('holdWeights', () => {
  it('holds the kept frames, frees the span and ramps down inside its edges (raised cosine)', () => {
    const h = holdWeights(100, { from: 30, to: 70, ramp: 10, before: true, after: true });
    for (let t = 0; t < 30; t++) expect(h[t]).toBe(1);
    for (let t = 70; t < 100; t++) expect(h[t]).toBe(1);
    for (let t = 40; t < 60; t++) expect(h[t]).toBe(0);
    for (let t = 30; t < 39; t++) expect(h[t]).toBeGreaterThan(h[t + 1]);
    expect(h[30]).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.05)), 6);
    expect(h[35]).toBeCloseTo(h[64], 6); // symmetric edges
  });

  it('frees the ends that have nothing kept beyond them (extend: only the run before is held)', () => {
    const h = holdWeights(50, { from: 20, to: 50, ramp: 8, before: true, after: false });
    expect(Array.from(h.subarray(0, 20)).every((x) => x === 1)).toBe(true);
    expect(h[49]).toBe(0);
    expect(() => holdWeights(50, { from: 20, to: 60, ramp: 8, before: true, after: true })).toThrow(/free frames 20–60 are not a span of the piece's 50 frames/);
  });
});

describe('holdToContext', () => {
  it('moves held frames to signal·known + noise·ε, blends ramp frames at the interpolated energy and leaves free ones', () => {
    const layout = { channels: 2, frames: 3, bins: 2 };
    const n = 12;
    const sample = Float32Array.from({ length: n }, (_, i) => i);
    const known = new Float32Array(n).fill(10);
    const noise = new Float32Array(n).fill(1);
    const hold = Float32Array.from([1, 0.25, 0]);
    const out = holdToContext(sample, { known, hold }, { signal: 0.6, noise: 0.8 }, noise, layout);
    // [c, t, q] = (c·3 + t)·2 + q. Frame 1 (h = ¼): the linear blend, scaled so its energy is ¼·E(kept) + ¾·E(own).
    const at1 = [0, 1].flatMap((c) => [0, 1].map((q) => (c * 3 + 1) * 2 + q));
    const linear = at1.map((i) => 0.25 * 6.8 + 0.75 * sample[i]);
    const energy = (xs: number[]): number => xs.reduce((e, x) => e + x * x, 0);
    const scale = Math.sqrt((0.25 * energy(at1.map(() => 6.8)) + 0.75 * energy(at1.map((i) => sample[i]))) / energy(linear));
    expect(scale).toBeGreaterThan(1.02);
    at1.forEach((i, k) => expect(out[i]).toBeCloseTo(linear[k] * scale, 5));
    for (const c of [0, 1]) {
      for (const q of [0, 1]) {
        expect(out[(c * 3 + 0) * 2 + q]).toBeCloseTo(6.8, 5);
        expect(out[(c * 3 + 2) * 2 + q]).toBe(sample[(c * 3 + 2) * 2 + q]);
      }
    }
    expect(sample[0]).toBe(0); // inputs untouched
    expect(() => holdToContext(sample, { known, hold: new Float32Array(4) }, { signal: 1, noise: 0 }, noise, layout)).toThrow(/context of 4 frames/);
  });
});

describe('renoise (RePaint resampling: back up one level)', () => {
  it.each([
    ['DDPM levels', { signal: Math.sqrt(0.8), noise: Math.sqrt(0.2) }, { signal: Math.sqrt(0.3), noise: Math.sqrt(0.7) }],
    ['rectified flow levels', { signal: 0.7, noise: 0.3 }, { signal: 0.2, noise: 0.8 }],
  ])('%s: a sample of the less noisy level becomes one of the noisier level (mean and variance)', (_, from, to) => {
    const n = 200_000;
    const x0 = 0.6;
    const rng = createRng(3, 0);
    const sample = Float32Array.from({ length: n }, () => from.signal * x0 + from.noise * rng.normal());
    const out = renoise(sample, from, to, Float32Array.from({ length: n }, () => rng.normal()));
    const mean = out.reduce((a, b) => a + b, 0) / n;
    const variance = out.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    // Standard errors: σ/√n ≈ 0.002 for the mean, σ²·√(2/n) ≈ 0.002 for the variance.
    expect(Math.abs(mean - to.signal * x0)).toBeLessThan(0.01);
    expect(Math.abs(variance - to.noise ** 2)).toBeLessThan(0.01);
  });

  it('refuses to go to a less noisy level', () => {
    expect(() => renoise(new Float32Array(2), { signal: 0.3, noise: 0.7 }, { signal: 0.8, noise: 0.2 }, new Float32Array(2))).toThrow(/cannot renoise/);
  });
});

describe('textToAudio in context (sketch, real sessions)', () => {
  let sketch: AudioLdmModel;
  beforeAll(async () => {
    sketch = await openBuiltin('sketch');
  });
  afterAll(async () => sketch?.dispose());

  /** A 24 s piece of `steps` steps, and the context that keeps all of it but 8–16 s. */
  async function keptPiece(steps: number) {
    const base: TextToAudioRequest = { seconds: 24, seed: 5, steps, guidance: 2.5, sampler: 'ddim', eta: 0, prompt: 'low drone' };
    const first = await textToAudio(sketch, base);
    const [, C, T, Fq] = first.latent.dims;
    const context = { kept: [{ data: first.latent.data, frames: T, offset: 0, from: 0, to: 24 }], free: { from: 8, to: 16 }, ramp: 1 };
    return { base, first, C, T, Fq, fps: sketch.geometry.framesPerSecond, context };
  }

  it.each(['spotdiffusion', 'multidiffusion'] as const)('%s: held frames end as the kept latent bit for bit, the free span is new, and the ramp joins them', async (method) => {
    const { base, first, C, T, Fq, fps, context } = await keptPiece(6);
    const redo = await textToAudio(sketch, { ...base, method, seed: 99, prompt: undefined, regions: [{ start: 0, end: 8, prompt: 'low drone' }, { start: 8, end: 16, prompt: 'bright tone' }, { start: 16, end: 24, prompt: 'low drone' }], context });
    const frame = (x: Float32Array, t: number): Float32Array => Float32Array.from({ length: C * Fq }, (_, i) => x[(Math.floor(i / Fq) * T + t) * Fq + (i % Fq)]);
    const same = (t: number): boolean => Buffer.from(frame(first.latent.data, t).buffer).equals(Buffer.from(frame(redo.latent.data, t).buffer));
    for (let t = 0; t < Math.floor(8 * fps); t++) expect(same(t), `frame ${t}`).toBe(true);
    for (let t = Math.ceil(16 * fps); t < T; t++) expect(same(t), `frame ${t}`).toBe(true);
    const middle = Math.round(12 * fps);
    expect(same(middle)).toBe(false);
    // Inside the ramp the new latent moves from the kept one towards the free content, monotonically on average.
    const distance = (t: number): number => {
      const a = frame(first.latent.data, t);
      const b = frame(redo.latent.data, t);
      return Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0) / a.length);
    };
    const edge = Math.ceil(8 * fps);
    expect(distance(edge)).toBeLessThan(distance(edge + Math.round(fps)));
  }, 60_000);

  it('a variation (strength < 1) starts from the kept latent: it stays closer to it than a fresh take and runs fewer steps', async () => {
    const { base, first, C, T, Fq, fps, context } = await keptPiece(10);
    const distance = (x: Float32Array): number => {
      let sum = 0;
      let n = 0;
      for (let c = 0; c < C; c++) for (let t = Math.ceil(10 * fps); t < Math.floor(14 * fps); t++) for (let q = 0; q < Fq; q++, n++) sum += (x[(c * T + t) * Fq + q] - first.latent.data[(c * T + t) * Fq + q]) ** 2;
      return Math.sqrt(sum / n);
    };
    const fresh = await textToAudio(sketch, { ...base, seed: 77, context });
    const near = await textToAudio(sketch, { ...base, seed: 77, context, strength: 0.3 });
    const far = await textToAudio(sketch, { ...base, seed: 77, context, strength: 0.8 });
    expect(distance(near.latent.data)).toBeGreaterThan(0);
    expect(distance(near.latent.data)).toBeLessThan(distance(far.latent.data));
    expect(distance(far.latent.data)).toBeLessThan(distance(fresh.latent.data));
    // Only the last ⌈0.3 · 10⌉ = 3 steps run (the plan, and so the evaluations of each step, are the same).
    const all = fresh.evaluationsPerStep.reduce((a, b) => a + b, 0);
    const last3 = fresh.evaluationsPerStep.slice(7).reduce((a, b) => a + b, 0);
    expect(near.unetRows).toBe((fresh.unetRows / all) * last3);
    await expect(textToAudio(sketch, { ...base, strength: 0.5 })).rejects.toThrow(/a variation \(strength\) starts from a kept latent/);
    await expect(textToAudio(sketch, { ...base, context, strength: 0 })).rejects.toThrow(/strength/);
  }, 60_000);

  it('resampling rounds: each step but the last runs `rounds` times, held frames still end as kept, the same seed repeats', async () => {
    const { base, first, C, T, Fq, fps, context } = await keptPiece(4);
    const once = await textToAudio(sketch, { ...base, seed: 21, context });
    const thrice = await textToAudio(sketch, { ...base, seed: 21, context: { ...context, rounds: 3 } });
    const again = await textToAudio(sketch, { ...base, seed: 21, context: { ...context, rounds: 3 } });
    expect(thrice.evaluationsPerStep).toEqual(once.evaluationsPerStep.map((e, k) => (k < 3 ? 3 * e : e)));
    // UNet rows follow (steps 0–2 three times, the last once; a step's rows depend on its window plan).
    expect(thrice.unetRows).toBeGreaterThan(2 * once.unetRows);
    expect(thrice.unetRows).toBeLessThan(3 * once.unetRows);
    expect(Buffer.from(again.latent.data.buffer).equals(Buffer.from(thrice.latent.data.buffer))).toBe(true);
    const at = (x: Float32Array, c: number, t: number, q: number): number => x[(c * T + t) * Fq + q];
    let held = true;
    let moved = 0;
    for (let c = 0; c < C; c++) {
      for (let q = 0; q < Fq; q++) {
        for (let t = 0; t < Math.floor(8 * fps); t++) held &&= at(thrice.latent.data, c, t, q) === at(first.latent.data, c, t, q);
        for (let t = Math.ceil(10 * fps); t < Math.floor(14 * fps); t++) moved = Math.max(moved, Math.abs(at(thrice.latent.data, c, t, q) - at(once.latent.data, c, t, q)));
      }
    }
    expect(held).toBe(true);
    expect(moved, 'the rounds change the free span').toBeGreaterThan(1e-3);
    await expect(textToAudio(sketch, { ...base, context: { ...context, rounds: 11 } })).rejects.toThrow(/context\.rounds.*1 to 10/s);
  }, 60_000);
});
