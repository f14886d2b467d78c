/**
 * Text-to-audio on the stable-audio-3 stand-in through the shared long-form path: a 3-minute 44.1 kHz stereo piece
 * with two regions whose spectra and panning follow the stand-in's prompt → sound mapping (docs/SA3-STANDIN.md),
 * a single-window piece with its silent headroom, determinism, cancellation and request checks.
 */
import FFT from 'fft.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spectralFeatures } from '../../../src-main/engine/audio/spectral.ts';
import { CancelledError, InvalidRequestError } from '../../../src-main/engine/errors.ts';
import type { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import type { StableAudio3Model } from '../../../src-main/engine/families/stable-audio-3/model.ts';
import { textToAudio, type Progress, type TextToAudioRequest, type TextToAudioResult } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { gridHz, voiceLevel, VOICES } from '../../../src-main/packs/sa3/index.ts';
import { frameNoise, NOISE_KIND } from '../../../src-main/engine/longform/noise.ts';
import { f32 } from '../../../src-main/engine/tensor/tensor.ts';
import { openBuiltin, openStandin } from '../../helpers/packs.ts';

const SR = 44100;
const VOICE_RMS = 0.1;
let model: StableAudio3Model;
beforeAll(async () => {
  model = await openStandin();
});
afterAll(async () => model?.dispose());

const REGIONS = [
  { start: 0, end: 90, prompt: 'low drone on the left' },
  { start: 90, end: 180, prompt: 'bright hiss on the right' },
];
const base: TextToAudioRequest = { seconds: 180, seed: 7, steps: 8, guidance: 1, sampler: 'pingpong', eta: 0, regions: REGIONS };

const rms = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
const seconds = (a: Float32Array, from: number, to: number): Float32Array => a.subarray(Math.round(from * SR), Math.round(to * SR));

/** Mean power spectrum over 32768-sample Hann frames (1.35 Hz bins). */
function powerSpectrum(signal: Float32Array): Float64Array {
  const n = 32768;
  const fft = new FFT(n);
  const power = new Float64Array(n / 2 + 1);
  const frame = new Float64Array(n);
  const out = fft.createComplexArray() as number[];
  for (let start = 0; start + n <= signal.length; start += n) {
    for (let i = 0; i < n; i++) frame[i] = signal[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
    fft.realTransform(out, frame);
    for (let k = 0; k <= n / 2; k++) power[k] += out[2 * k] ** 2 + out[2 * k + 1] ** 2;
  }
  return power;
}
const binHz = SR / 32768;
const share = (p: Float64Array, lo: number, hi: number): number => {
  let inside = 0;
  let total = 0;
  p.forEach((x, k) => {
    total += x;
    if (k * binHz >= lo && k * binHz <= hi) inside += x;
  });
  return inside / total;
};
const peakHz = (p: Float64Array): number => binHz * p.indexOf(Math.max(...p));

/** Expected RMS of a bank for a prompt: voices are uncorrelated unit-RMS carriers at VOICE_RMS·max(0, z̄). */
function expectedRms(prompt: string, bank: 0 | 1): number {
  const words = prompt.split(' ');
  return VOICE_RMS * Math.sqrt(VOICES.reduce((s, v) => s + Math.max(0, voiceLevel(words, v.name, bank)) ** 2, 0));
}

/** The checks of the two-region piece: length, panning, per-region spectra, no dropouts. */
function expectTwoRegionPiece(r: TextToAudioResult): void {
  expect(r.sampleRate).toBe(SR);
  expect(r.channels).toHaveLength(2);
  for (const c of r.channels) expect(c).toHaveLength(180 * SR);
  expect(r.audio).toBe(r.channels[0]);
  const [left, right] = r.channels;
  // Region 1 interior: the drone on the left only (107.7 Hz and harmonics, a little 53.8 Hz bass).
  const l1 = seconds(left, 5, 85);
  expect(rms(l1)).toBeGreaterThan(0.97 * expectedRms(REGIONS[0].prompt, 0));
  expect(rms(l1)).toBeLessThan(1.03 * expectedRms(REGIONS[0].prompt, 0));
  expect(rms(seconds(right, 5, 85))).toBe(0);
  const p1 = powerSpectrum(l1);
  expect(Math.abs(peakHz(p1) - gridHz(10))).toBeLessThan(2 * binHz);
  expect(share(p1, 40, 400)).toBeGreaterThan(0.99);
  expect(spectralFeatures(l1, SR).centroidHz).toBeLessThan(250);
  // Region 2 interior: the hiss (5–15 kHz noise) on the right only.
  const r2 = seconds(right, 95, 175);
  expect(rms(r2)).toBeGreaterThan(0.97 * expectedRms(REGIONS[1].prompt, 1));
  expect(rms(r2)).toBeLessThan(1.03 * expectedRms(REGIONS[1].prompt, 1));
  expect(rms(seconds(left, 95, 175))).toBe(0);
  const p2 = powerSpectrum(r2);
  expect(share(p2, 4900, 15100)).toBeGreaterThan(0.97);
  expect(spectralFeatures(r2, SR).centroidHz).toBeGreaterThan(7000);
  // No dropout or level jump anywhere inside a region (window seams, decode joins): every second within ±10 %.
  for (const [channel, from, to] of [[left, 1, 88], [right, 92, 180]] as const) {
    const target = expectedRms(REGIONS[channel === left ? 0 : 1].prompt, channel === left ? 0 : 1);
    for (let s = from; s < to; s++) {
      const level = rms(seconds(channel, s, s + 1));
      expect(level, `${channel === left ? 'left' : 'right'} second ${s}`).toBeGreaterThan(0.9 * target);
      expect(level).toBeLessThan(1.1 * target);
    }
  }
}

describe('3 minutes, 44.1 kHz stereo, two regions (0–90 s "low drone on the left", 90–180 s "bright hiss on the right")', () => {
  let spot: TextToAudioResult;
  const progress: Progress[] = [];
  beforeAll(async () => {
    spot = await textToAudio(model, base, { onProgress: (p) => progress.push(p) });
  });

  it('default (auto = SpotDiffusion): exactly 180·44100 frames per channel, each region where and how its prompt says', () => {
    expectTwoRegionPiece(spot);
    expect(spot.latent.dims).toEqual([1, 256, 2004, 1]);
    expect(spot.seams.windows.length).toBeGreaterThan(6);
    expect(spot.seams.decode.length).toBeGreaterThan(10);
    expect(spot.seams.vocode).toEqual([]);
    // 8 ping-pong steps, each over ~8–9 SpotDiffusion windows × the prompts they touch; no CFG rows.
    expect(spot.evaluationsPerStep).toHaveLength(8);
    expect(spot.unetRows).toBe(spot.evaluationsPerStep.reduce((a, b) => a + b, 0));
  });

  it('reports encode, then per-window denoise progress over 8 steps, then decode chunks (no vocoder stage)', () => {
    expect(progress[0]).toMatchObject({ stage: 'encode', step: 0, steps: 8 });
    const stages = [...new Set(progress.map((p) => p.stage))];
    expect(stages).toEqual(['encode', 'denoise', 'decode']);
    expect(progress.filter((p) => p.stage === 'denoise' && p.windows === undefined).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(progress.at(-1)).toMatchObject({ stage: 'decode', chunk: 16, chunks: 16 });
    expect(spot.timings.vocode).toBe(0);
  });

  it('MultiDiffusion: the same regions and spectra', async () => {
    expectTwoRegionPiece(await textToAudio(model, { ...base, method: 'multidiffusion' }));
  });
});

describe('one window (10 s): plain sampling conditioned on the request\'s seconds, headroom silent and trimmed', () => {
  it('174 latent frames; frames past 10 s hold the silent level; the trimmed audio plays to the end', async () => {
    const r = await textToAudio(model, { ...base, seconds: 10, regions: undefined, prompt: 'warm pad' });
    expect(r.latent.dims).toEqual([1, 256, 174, 1]);
    expect(r.evaluationsPerStep).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(r.channels[0]).toHaveLength(441000);
    const z = r.latent.data;
    const contentFrames = Math.ceil(10 * (44100 / 4096)); // 108
    // padding_mask (SA3 sampling.py): 108 frames of audio + ⌊6·44100/4096⌋ = 64 of headroom are attended; 172, 173 not.
    const valid = contentFrames + 64;
    let sum = 0;
    let worst = 0;
    let masked = 0;
    for (let c = 0; c < 256; c++) {
      for (let n = contentFrames; n < valid; n++) {
        sum += z[c * 174 + n];
        worst = Math.max(worst, Math.abs(z[c * 174 + n] + 1.5));
      }
      for (let n = valid; n < 174; n++) masked += z[c * 174 + n];
    }
    expect(sum / (256 * (valid - contentFrames))).toBeCloseTo(-1.5, 2);
    expect(worst).toBeLessThan(1); // final latent std ≈ 0.116 (pingpong.test.ts), so > 8σ would be a bug
    // The stand-in DiT returns v = 0 on masked frames, so they keep noise (mean ≈ 0) instead of the silent level.
    expect(Math.abs(masked / (256 * (174 - valid)))).toBeLessThan(0.3);
    const pad = (0 * 128 + 2 * 16) * 174 + 50; // left bank, pad voice (z̄ = −0.5 + 1.5 + 0.6), frame 50
    expect(z[pad]).toBeCloseTo(voiceLevel(['warm', 'pad'], 'pad', 0), 0);
    for (const channel of r.channels) {
      expect(rms(seconds(channel, 9, 9.9))).toBeGreaterThan(0.9 * rms(seconds(channel, 1, 9)));
    }
  });
});

describe('determinism and guidance', () => {
  const request: TextToAudioRequest = { ...base, seconds: 50, regions: [{ start: 0, end: 25, prompt: 'bells on the left' }, { start: 25, end: 50, prompt: 'rain and rumble' }] };

  it('the same seed gives identical bytes on both channels; another seed does not', async () => {
    const a = await textToAudio(model, request);
    const b = await textToAudio(model, request);
    const c = await textToAudio(model, { ...request, seed: 8 });
    for (let ch = 0; ch < 2; ch++) {
      expect(Buffer.from(a.channels[ch].buffer).equals(Buffer.from(b.channels[ch].buffer))).toBe(true);
      expect(Buffer.from(a.channels[ch].buffer).equals(Buffer.from(c.channels[ch].buffer))).toBe(false);
    }
  });

  it('guidance > 1: one sampler step per DiT pair, combined as the reference does (zero uncond, APG), louder voices', async () => {
    const one = { ...request, seconds: 20, regions: undefined, prompt: 'drone', negativePrompt: '' };
    const plain = await textToAudio(model, one);
    const guided = await textToAudio(model, { ...one, guidance: 3 });
    expect(guided.unetRows).toBe(2 * plain.unetRows);
    expect(rms(seconds(guided.channels[0], 2, 10))).toBeGreaterThan(1.2 * rms(seconds(plain.channels[0], 2, 10)));
    // The same sampling composed by hand from the family's parts: the pipeline adds nothing and drops nothing.
    const frames = model.latentFramesFor(20);
    const piece = { seconds: 20, frames, window: frames };
    const cond = (await model.encodeConditions(['drone'], piece)).rows;
    const uncond = (await model.encodeNegatives([''], piece)).rows;
    const scheduler = model.createScheduler('pingpong', 8, { eta: 0 });
    // The pipeline's noise: per absolute latent frame, the piece starting at frame 0 (longform/noise.ts).
    const canvas = { channels: 256, frames, bins: 1 };
    let x = frameNoise(one.seed, NOISE_KIND.initial, 0, canvas, 0);
    let state = scheduler.initialState();
    for (let k = 0; k < 8; k++) {
      const t = scheduler.timesteps[k];
      const rows = { piece, starts: [0] };
      const vc = await model.predict(f32(x, [1, 256, frames, 1]), t, cond, rows);
      const vu = await model.predict(f32(x, [1, 256, frames, 1]), t, uncond, rows);
      const v = Float32Array.from(model.guidance({ x, cond: vc.data, uncond: vu.data, timestep: t, scale: 3, start: 0, window: frames, piece }));
      const next = scheduler.step(state, { stepIndex: k, sample: x, modelOutput: v, noise: scheduler.needsNoise(k) ? frameNoise(one.seed, NOISE_KIND.step, k, canvas, 0) : undefined });
      state = next.state;
      x = next.sample;
    }
    expect(Buffer.from(guided.latent.data.buffer).equals(Buffer.from(x.buffer))).toBe(true);
  });
});

describe('guided and unguided regions in one piece', () => {
  it('an unguided region with a negative prompt next to a guided one: only the guided region\'s negative is encoded', async () => {
    const r = await textToAudio(model, {
      ...base,
      seconds: 30,
      regions: [
        { start: 0, end: 15, prompt: 'drone', guidance: 3 },
        { start: 15, end: 30, prompt: 'rain', negativePrompt: 'hiss' },
      ],
    });
    expect(r.channels.map((c) => c.length)).toEqual([30 * SR, 30 * SR]);
    expect(rms(seconds(r.channels[0], 2, 12))).toBeGreaterThan(0);
  });
});

describe('cancel and request checks', () => {
  it('stops between window batches and between decode chunks', async () => {
    const denoising = new AbortController();
    const during = textToAudio(model, base, { signal: denoising.signal, onProgress: (p) => p.stage === 'denoise' && p.step === 2 && denoising.abort() });
    await expect(during).rejects.toThrow(CancelledError);
    await expect(during).rejects.toThrow(/cancelled during denoise/);
    const decoding = new AbortController();
    const late = textToAudio(model, base, { signal: decoding.signal, onProgress: (p) => p.stage === 'decode' && p.chunk === 3 && decoding.abort() });
    await expect(late).rejects.toThrow(/cancelled during decode/);
  });

  it('refuses samplers that cannot walk the schedule and audioldm-only options, naming the field', async () => {
    await expect(textToAudio(model, { ...base, sampler: 'ddim' })).rejects.toThrow(InvalidRequestError);
    await expect(textToAudio(model, { ...base, sampler: 'ddim' })).rejects.toThrow(/sampler 'ddim' does not fit model 'stable-audio-3-standin' \(stable-audio-3\); use pingpong \(default pingpong\)/);
    await expect(textToAudio(model, { ...base, vaeDecode: 'shared' })).rejects.toThrow(/'shared' needs GroupNorm statistics that stable-audio-3 decoders do not expose/);
    const sketch: AudioLdmModel = await openBuiltin('sketch');
    try {
      await expect(textToAudio(sketch, { ...base, sampler: 'pingpong' })).rejects.toThrow(/sampler 'pingpong' does not fit model 'sketch' \(audioldm\); use ddim or dpmpp-2m/);
    } finally {
      await sketch.dispose();
    }
  });
});
