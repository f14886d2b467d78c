/** The text-to-audio pipeline on the sketch pack through real ORT sessions: prompts, determinism, progress, errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spectralFeatures } from '../../../src-main/engine/audio/spectral.ts';
import { CancelledError, InvalidRequestError } from '../../../src-main/engine/errors.ts';
import type { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import { textToAudio, type Progress, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { FeedMismatchError } from '../../../src-main/engine/runtime/session.ts';
import { f32 } from '../../../src-main/engine/tensor/tensor.ts';
import { openBuiltin } from '../../helpers/packs.ts';

let model: AudioLdmModel;
beforeAll(async () => {
  model = await openBuiltin('sketch');
});
afterAll(async () => model?.dispose());

const base: TextToAudioRequest = { prompt: 'bright tone', seconds: 8, seed: 7, steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0 };

describe('sketch prompts are measurably distinct (2048-point Hann frames)', () => {
  it.each([
    { prompt: 'low drone', check: (f: ReturnType<typeof spectralFeatures>) => expect(f.centroidHz).toBeLessThan(400) },
    { prompt: 'bright tone', check: (f: ReturnType<typeof spectralFeatures>) => expect(f.centroidHz).toBeGreaterThan(2000) },
    { prompt: 'noise', check: (f: ReturnType<typeof spectralFeatures>) => expect(f.flatness).toBeGreaterThan(0.3) },
  ])('"$prompt"', async ({ prompt, check }) => {
    for (const seed of [1, 2]) {
      const r = await textToAudio(model, { ...base, prompt, seed });
      const features = spectralFeatures(r.audio, r.sampleRate);
      check(features);
      expect(features.rms).toBeGreaterThan(0.05); // audibly not silent
    }
  });

  it('tonal prompts are not flat and the noise prompt is not tonal', async () => {
    const drone = spectralFeatures((await textToAudio(model, { ...base, prompt: 'low drone' })).audio, 16000);
    const noise = spectralFeatures((await textToAudio(model, { ...base, prompt: 'noise' })).audio, 16000);
    expect(drone.flatness).toBeLessThan(0.05);
    expect(noise.flatness).toBeGreaterThan(drone.flatness * 10);
  });
});

describe('output length and determinism', () => {
  it('returns exactly round(seconds · 16000) samples for any duration', async () => {
    for (const seconds of [0.01, 1, 2.5, 8, 10.24]) {
      const r = await textToAudio(model, { ...base, seconds, steps: 2 });
      expect(r.audio.length).toBe(Math.round(seconds * 16000));
      expect(r.latent.dims).toEqual([1, 8, 8 * Math.ceil(Number((seconds / 0.32).toFixed(9))), 16]);
    }
  });

  it('the same seed reproduces the take bit for bit; a different seed changes it', async () => {
    const a = await textToAudio(model, { ...base, eta: 0.5 });
    const b = await textToAudio(model, { ...base, eta: 0.5 });
    const c = await textToAudio(model, { ...base, eta: 0.5, seed: base.seed + 1 });
    expect(Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer))).toBe(true);
    expect(Buffer.from(a.audio.buffer).equals(Buffer.from(c.audio.buffer))).toBe(false);
    let diff = 0;
    for (let i = 0; i < a.audio.length; i++) diff = Math.max(diff, Math.abs(a.audio[i] - c.audio[i]));
    expect(diff).toBeGreaterThan(0.01);
  });

  it('DPM-Solver++ (2M) also generates the prompt it is given', async () => {
    const r = await textToAudio(model, { ...base, prompt: 'low drone', sampler: 'dpmpp-2m', steps: 20 });
    expect(spectralFeatures(r.audio, 16000).centroidHz).toBeLessThan(400);
  });

  it('reports words the vocabulary does not know', async () => {
    const r = await textToAudio(model, { ...base, prompt: 'bright tone, xylophone!', steps: 1 });
    expect(r.unknownWords).toEqual(['xylophone']);
  });
});

describe('progress and cancellation', () => {
  it('reports every step with an ETA and the stages in order', async () => {
    const events: Progress[] = [];
    await textToAudio(model, { ...base, seconds: 1 }, { onProgress: (p) => events.push(p) });
    const denoise = events.filter((e) => e.stage === 'denoise' && e.window === undefined);
    expect(denoise.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(denoise.every((e) => e.steps === 10 && e.eta !== undefined && e.eta >= 0)).toBe(true);
    // Within each step: one event per UNet batch, counting window evaluations (one window for 1 s).
    const batches = events.filter((e) => e.stage === 'denoise' && e.window !== undefined);
    expect(batches).toHaveLength(10);
    expect(batches.every((e) => e.window === 1 && e.windows === 1)).toBe(true);
    expect(events.map((e) => e.stage).filter((s, i, all) => all.indexOf(s) === i)).toEqual(['encode', 'denoise', 'decode', 'vocode']);
  });

  it('stops between steps when the AbortSignal fires', async () => {
    const controller = new AbortController();
    let last = 0;
    const run = textToAudio(model, { ...base, seconds: 1, steps: 50 }, {
      signal: controller.signal,
      onProgress: (p) => {
        last = p.step;
        if (p.stage === 'denoise' && p.step === 3) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(last).toBe(3);
  });
});

describe('bad requests are rejected with the field named', () => {
  it.each([
    [{ seconds: 0 }, 'seconds', /duration 0 s is not a positive/],
    [{ seconds: Number.NaN }, 'seconds', /duration NaN/],
    [{ seconds: -1 }, 'seconds', /not a positive/],
    [{ steps: 0 }, 'steps', /steps 0 must be a whole number from 1 to 1000/],
    [{ steps: 1001 }, 'steps', /from 1 to 1000/],
    [{ steps: 2.5 }, 'steps', /whole number/],
    [{ guidance: -0.5 }, 'guidance', /guidance -0.5 must be a number ≥ 0/],
    [{ sampler: 'euler' }, 'sampler', /sampler 'euler' is unknown; use one of: ddim, dpmpp-2m/],
    [{ seed: -1 }, 'seed', /seed -1 is not an integer/],
    [{ eta: -1 }, 'eta', /eta -1/],
  ] as Array<[Partial<Record<keyof TextToAudioRequest, unknown>>, string, RegExp]>)('%o', async (patch, field, message) => {
    const run = textToAudio(model, { ...base, ...patch } as TextToAudioRequest);
    await expect(run).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(run).rejects.toMatchObject({ field });
    await expect(run).rejects.toThrow(message);
  });

  it('durations beyond the maximum (default 20 min, configurable) are refused before any work', async () => {
    const run = textToAudio(model, { ...base, seconds: 1201 });
    await expect(run).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(run).rejects.toThrow(/duration 1201 s is longer than the maximum of 1200 s/);
    await expect(textToAudio(model, { ...base, seconds: 31 }, { maxSeconds: 30 })).rejects.toThrow(/longer than the maximum of 30 s/);
  });
});

describe('runtime feed validation', () => {
  it('names the tensor and both shapes on a mismatch', async () => {
    const run = model.sessions.unet.run({
      sample: f32(new Float32Array(2 * 8 * 16 * 8), [2, 8, 16, 8]),
      timestep: f32(new Float32Array(2), [2]),
      class_labels: f32(new Float32Array(2 * 512), [2, 512]),
    });
    await expect(run).rejects.toBeInstanceOf(FeedMismatchError);
    await expect(run).rejects.toThrow("'sample': expected float32 [N, 8, T, 16], got float32 [2, 8, 16, 8] (dim 3 must be 16)");
  });

  it('reports inconsistent symbolic dims, missing and extra feeds', async () => {
    const run = model.sessions.unet.run({
      sample: f32(new Float32Array(2 * 8 * 8 * 16), [2, 8, 8, 16]),
      class_labels: f32(new Float32Array(3 * 512), [3, 512]),
      extra: f32(new Float32Array(1), [1]),
    });
    await expect(run).rejects.toThrow(/'timestep': missing \(expected float32 \[N\]\)/);
    await expect(run).rejects.toThrow(/'class_labels': expected float32 \[N, 512\], got float32 \[3, 512\] \(N = 3 here but 2 in 'sample'\)/);
    await expect(run).rejects.toThrow(/'extra': not an input of this graph/);
  });
});
