/**
 * The pipeline on the tiling plan's canvas (longform/plan.ts): SpotDiffusion generations denoise the piece padded by
 * W beyond both ends and crop it out; the family sees window starts in the piece's frames; the piece's frames draw
 * the noise they draw unpadded; MultiDiffusion-only and single-window generations are untouched (the same bytes as
 * the loop composed by hand from the parts, without a canvas); the stable-audio-3 stand-in attends the padding as
 * content and stays deterministic.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GENERATION_DEFAULTS } from '../../../src-main/contract/generation-settings.ts';
import type { AudioLdmManifest } from '../../../src-main/contract/manifest.ts';
import { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import type { LatentDiffusionModel, WindowRows } from '../../../src-main/engine/families/model.ts';
import type { StableAudio3Model } from '../../../src-main/engine/families/stable-audio-3/model.ts';
import { outputSpaceGuidance } from '../../../src-main/engine/longform/guidance.ts';
import { frameNoise, NOISE_KIND } from '../../../src-main/engine/longform/noise.ts';
import { conditionsOf, conditionWeights } from '../../../src-main/engine/longform/regions.ts';
import { predictTiled, type TiledCondition } from '../../../src-main/engine/longform/tiled-denoise.ts';
import { planMultiDiffusion, windowProfile } from '../../../src-main/engine/longform/windows.ts';
import { textToAudio, type Progress, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { sliceBatch, type F32, type Tensor } from '../../../src-main/engine/tensor/tensor.ts';
import { loadTokenizer } from '../../../src-main/host/packs/load.ts';
import { builtinPack, openBuiltin, openStandin } from '../../helpers/packs.ts';

/** A built-in AudioLDM pack's model with a shorter native window, so a few seconds are tiled. */
async function withWindow(model: AudioLdmModel, id: 'sketch' | 'shape-s', frames: number): Promise<AudioLdmModel> {
  const manifest: AudioLdmManifest = { ...model.manifest, latent: { ...model.manifest.latent, nativeWindowFrames: frames } };
  return new AudioLdmModel(manifest, model.sessions, await loadTokenizer(await builtinPack(id)));
}

let sketch: AudioLdmModel;
/** sketch with a 32-frame native window (1.28 s). */
let tiled: AudioLdmModel;
beforeAll(async () => {
  sketch = await openBuiltin('sketch');
  tiled = await withWindow(sketch, 'sketch', 32);
});
afterAll(async () => sketch?.dispose());

const REGIONS = [
  { start: 0, end: 3, prompt: 'low drone' },
  { start: 3, end: 5.1, prompt: 'noise', guidance: 4 },
  { start: 5.1, end: 7.3, prompt: 'bright tone', negativePrompt: 'hiss' },
];
/** Three regions, stochastic DDIM (step noise too), placed 3 s into the timeline. */
const request: TextToAudioRequest = { regions: REGIONS, seconds: 7.3, start: 3, seed: 11, steps: 6, guidance: 2.5, sampler: 'ddim', eta: 0.7, transition: 1 };

interface Call {
  sample: F32;
  labels: F32;
  starts: readonly number[];
}

/** Runs `textToAudio` while recording every denoiser call (the model still answers). */
async function recorded(model: AudioLdmModel, r: TextToAudioRequest, onProgress?: (p: Progress) => void) {
  const calls: Call[] = [];
  // The pipeline's view of the model: predict with each row's window (audioldm ignores it).
  const target: LatentDiffusionModel = model;
  const original = target.predict.bind(target);
  const spy = vi.spyOn(target, 'predict').mockImplementation((sample: F32, t: number, labels: F32, rows: WindowRows) => {
    calls.push({ sample, labels, starts: [...rows.starts] });
    return original(sample, t, labels, rows);
  });
  try {
    const result = await textToAudio(model, r, onProgress ? { onProgress } : {});
    return { result, calls };
  } finally {
    spy.mockRestore();
  }
}

/** Frame n (all channels and bins) of row r of a batch [R, C, W, Fq]. */
function rowFrame(sample: F32, r: number, n: number): Float32Array {
  const [, C, W, Fq] = sample.dims;
  const out = new Float32Array(C * Fq);
  for (let c = 0; c < C; c++) out.set(sample.data.subarray(((r * C + c) * W + n) * Fq, ((r * C + c) * W + n + 1) * Fq), c * Fq);
  return out;
}

/** Frame t of a latent [1, C, T, Fq]. */
function latentFrame(x: Float32Array, C: number, T: number, Fq: number, t: number): Float32Array {
  const out = new Float32Array(C * Fq);
  for (let c = 0; c < C; c++) out.set(x.subarray((c * T + t) * Fq, (c * T + t + 1) * Fq), c * Fq);
  return out;
}

const same = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('sketch, 7.3 s in three regions, 32-frame windows, SpotDiffusion', () => {
  it('the denoiser sees windows from −W to T + W in the piece\'s frames; the piece comes back cropped, its seams inside it', async () => {
    const progress: Progress[] = [];
    const { result, calls } = await recorded(tiled, { ...request, method: 'spotdiffusion' }, (p) => progress.push(p));
    const T = tiled.latentFramesFor(7.3);
    const W = 32;
    const starts = calls.flatMap((c) => c.starts);
    expect(Math.min(...starts)).toBe(-W); // the canvas's clamped first tile: all padding
    expect(Math.max(...starts)).toBe(T); // and its last
    expect(starts.some((a) => a < 0 && a + W > 0)).toBe(true);
    expect(starts.some((a) => a < T && a + W > T)).toBe(true);
    expect(result.latent.dims).toEqual([1, 8, T, 16]);
    expect(result.unetRows).toBe(starts.length);
    for (const s of result.seams.windows) {
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThan(7.3);
    }
    // Progress counts every evaluation, the padding's included.
    result.evaluationsPerStep.forEach((n, k) => expect(Math.max(...progress.filter((p) => p.stage === 'denoise' && p.step === k && p.windows !== undefined).map((p) => p.windows ?? 0))).toBe(n));
  });

  it('the piece\'s frames start from their unpadded noise bit for bit; the padding from noise of its own absolute frames', async () => {
    const { calls } = await recorded(tiled, { ...request, method: 'spotdiffusion', steps: 1 });
    const T = tiled.latentFramesFor(7.3);
    const origin = Math.round(3 * 25);
    const layout = (frames: number) => ({ channels: 8, frames, bins: 16 });
    const piece = frameNoise(request.seed, NOISE_KIND.initial, 0, layout(T), origin);
    const canvas = frameNoise(request.seed, NOISE_KIND.initial, 0, layout(T + 64), origin - 32);
    let real = 0;
    let padding = 0;
    for (const call of calls) {
      call.starts.forEach((a, r) => {
        for (let n = 0; n < 32; n++) {
          const t = a + n;
          const seen = rowFrame(call.sample, r, n);
          if (t >= 0 && t < T) {
            expect(same(seen, latentFrame(piece, 8, T, 16, t))).toBe(true);
            real++;
          } else {
            expect(same(seen, latentFrame(canvas, 8, T + 64, 16, t + 32))).toBe(true);
            expect(same(seen, latentFrame(piece, 8, T, 16, Math.min(T - 1, Math.max(0, t))))).toBe(false);
            padding++;
          }
        }
      });
    }
    expect(real).toBeGreaterThanOrEqual(T);
    expect(padding).toBeGreaterThanOrEqual(64);
  });

  it('the padding is conditioned as the first region before the piece and the last region after it', async () => {
    const { calls } = await recorded(tiled, { ...request, method: 'spotdiffusion', steps: 2 });
    const T = tiled.latentFramesFor(7.3);
    const key = (labels: F32, r: number): string => {
      const row = sliceBatch(labels, r, r + 1).data;
      return Buffer.from(row.buffer, row.byteOffset, row.byteLength).toString('base64');
    };
    const labelsWhere = (inside: (a: number) => boolean): Set<string> => new Set(calls.flatMap((c) => c.starts.flatMap((a, r) => (inside(a) ? [key(c.labels, r)] : []))));
    const before = labelsWhere((a) => a + 32 <= 0);
    const after = labelsWhere((a) => a >= T);
    // Windows wholly inside the first region (before its 1 s transition at 2.5 s) and the last (after 5.6 s).
    const first = labelsWhere((a) => a >= 0 && a + 32 <= 2.5 * 25);
    const last = labelsWhere((a) => a >= 5.6 * 25 && a + 32 <= T);
    expect(before.size).toBe(2); // "low drone" guided: its negative and its prompt
    expect([...before].every((k) => first.has(k))).toBe(true);
    expect(after.size).toBe(2); // "bright tone" guided with negative "hiss"
    expect([...after].every((k) => last.has(k))).toBe(true);
    expect([...after].some((k) => before.has(k))).toBe(false);
  });

  it('the same seed reproduces the padded piece bit for bit (sketch is pointwise: it equals the untiled piece)', async () => {
    const spot = { ...request, method: 'spotdiffusion' as const };
    const a = await textToAudio(tiled, spot);
    const b = await textToAudio(tiled, spot);
    expect(same(a.latent.data, b.latent.data)).toBe(true);
    expect(same(a.audio, b.audio)).toBe(true);
    const untiled = await textToAudio(sketch, spot);
    let worst = 0;
    for (let i = 0; i < a.latent.data.length; i++) worst = Math.max(worst, Math.abs(a.latent.data[i] - untiled.latent.data[i]));
    expect(worst).toBeLessThan(1e-4);
  });
});

describe('untouched: MultiDiffusion only and single windows', () => {
  // shape-s couples frames (sketch's pointwise UNet would give the same bytes on any canvas); 64-frame windows.
  let shape: AudioLdmModel;
  let coupled: AudioLdmModel;
  beforeAll(async () => {
    shape = await openBuiltin('shape-s');
    coupled = await withWindow(shape, 'shape-s', 64);
  });
  afterAll(async () => shape?.dispose());

  /** The MultiDiffusion generation composed by hand from the parts, on the piece itself (no canvas, no crop). */
  async function multiDiffusionByHand(model: AudioLdmModel, r: TextToAudioRequest): Promise<Float32Array> {
    const T = model.latentFramesFor(r.seconds);
    const W = model.geometry.nativeWindowFrames;
    const piece = { seconds: r.seconds, frames: T, window: W };
    const conditions = conditionsOf(REGIONS, r.guidance);
    const texts = [...new Set(conditions.flatMap((c) => [c.negativePrompt, c.prompt]))];
    const rows = (await model.encodeConditions(texts)).rows;
    const rowOf = (text: string): Float32Array => sliceBatch(rows, texts.indexOf(text), texts.indexOf(text) + 1).data;
    const weights = conditionWeights(REGIONS, conditions, T, 25, r.transition ?? 2);
    const tiledConditions: TiledCondition[] = conditions.map((c, k) => ({ cond: rowOf(c.prompt), uncond: c.guidance > 1 ? rowOf(c.negativePrompt) : new Float32Array(0), guidance: c.guidance, weights: weights[k] }));
    const scheduler = model.createScheduler(r.sampler, r.steps, { eta: r.eta });
    const target: LatentDiffusionModel = model;
    const layout = { channels: 8, frames: T, bins: 16 };
    const origin = Math.round((r.start ?? 0) * 25);
    const stride = Math.round(W * GENERATION_DEFAULTS.tiling.strideRatio);
    let x = frameNoise(r.seed, NOISE_KIND.initial, 0, layout, origin);
    let state = scheduler.initialState();
    for (let k = 0; k < r.steps; k++) {
      const denoise = (b: F32, t: number, l: F32, starts: readonly number[]) => target.predict(b, t, l, { piece, starts });
      const e = await predictTiled(denoise, { ...layout, window: W, windowBatch: 4 }, tiledConditions, x, scheduler.timesteps[k], planMultiDiffusion(T, W, stride), windowProfile(W, 'tapered'), {
        guidance: { rule: outputSpaceGuidance, piece },
        // Regions that blend are level-matched at their joins (regions.ts#JoinLevelMatch), as textToAudio does.
        levelMatchJoins: true,
      });
      const noise = scheduler.needsNoise(k) ? frameNoise(r.seed, NOISE_KIND.step, k, layout, origin) : undefined;
      const next = scheduler.step(state, { stepIndex: k, sample: x, modelOutput: e, noise });
      state = next.state;
      x = next.sample;
    }
    return x;
  }

  it.each([
    ['multidiffusion', { method: 'multidiffusion' as const }],
    ['auto whose final MultiDiffusion steps are all of them', { method: 'auto' as const, tiling: { finalMultiSteps: 4 } }],
  ])('%s (shape-s): the same bytes as the loop composed by hand on the piece, windows only inside it', async (_name, patch) => {
    const r = { ...request, steps: 4, ...patch };
    const { result, calls } = await recorded(coupled, r);
    const T = coupled.latentFramesFor(r.seconds);
    expect(calls.every((c) => c.starts.every((a) => a >= 0 && a + 64 <= T))).toBe(true);
    expect(same(result.latent.data, await multiDiffusionByHand(coupled, r))).toBe(true);
  }, 60_000);

  it('a single window is one plain window at every step, whatever the method (no padding)', async () => {
    for (const method of ['spotdiffusion', 'auto'] as const) {
      const { result, calls } = await recorded(tiled, { ...request, regions: undefined, prompt: 'rain', seconds: 1.2, method });
      expect(result.evaluationsPerStep).toEqual([1, 1, 1, 1, 1, 1]);
      expect(calls.every((c) => c.starts.every((a) => a === 0))).toBe(true);
      expect(calls.every((c) => c.sample.dims[2] === tiled.latentFramesFor(1.2))).toBe(true);
    }
  });
});

describe('stable-audio-3 stand-in, 50 s (two windows and more), SpotDiffusion with guidance (APG)', () => {
  let model: StableAudio3Model;
  beforeAll(async () => {
    model = await openStandin();
  });
  afterAll(async () => model?.dispose());

  const sa3: TextToAudioRequest = { prompt: 'bells on the left', seconds: 50, seed: 7, steps: 4, guidance: 3, sampler: 'pingpong', eta: 0, method: 'spotdiffusion' };

  it('windows reaching past the piece attend all their frames (the padding is content); the others mask past audio + headroom', async () => {
    const T = model.latentFramesFor(50);
    const W = model.geometry.nativeWindowFrames;
    const valid = model.validFrames({ seconds: 50, frames: T, window: W });
    expect(valid).toBeLessThanOrEqual(T);
    const starts: number[] = [];
    const masks: Uint8Array[] = [];
    const predict = vi.spyOn(model, 'predict');
    const run = vi.spyOn(model.sessions.dit, 'run');
    try {
      const r = await textToAudio(model, sa3);
      for (const [, , , rows] of predict.mock.calls) starts.push(...rows.starts);
      for (const [feeds] of run.mock.calls) {
        const mask = (feeds as Record<string, Tensor>).padding_mask;
        const [n, width] = mask.dims;
        for (let i = 0; i < n; i++) masks.push(Uint8Array.from((mask.data as Uint8Array).subarray(i * width, (i + 1) * width)));
      }
      expect(r.latent.dims).toEqual([1, 256, T, 1]);
      expect(r.channels.map((c) => c.length)).toEqual([50 * 44100, 50 * 44100]);
    } finally {
      predict.mockRestore();
      run.mockRestore();
    }
    expect(masks).toHaveLength(starts.length);
    expect(starts.some((a) => a < 0)).toBe(true);
    expect(starts.some((a) => a + W > T)).toBe(true);
    starts.forEach((a, i) => {
      const expected = Array.from({ length: W }, (_, f) => (a + W > T || a + f < valid ? 1 : 0));
      expect(Array.from(masks[i]), `row ${i} (start ${a})`).toEqual(expected);
    });
  });

  it('deterministic bit for bit on both channels, and the piece plays at its level to the end', async () => {
    const a = await textToAudio(model, sa3);
    const b = await textToAudio(model, sa3);
    for (let ch = 0; ch < 2; ch++) expect(same(a.channels[ch], b.channels[ch])).toBe(true);
    expect(same(a.latent.data, b.latent.data)).toBe(true);
    const rms = (x: Float32Array): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
    const left = a.channels[0];
    const middle = rms(left.subarray(20 * 44100, 30 * 44100));
    expect(middle).toBeGreaterThan(0.01);
    for (const s of [0, 1, 48, 49]) expect(rms(left.subarray(s * 44100, (s + 1) * 44100)), `second ${s}`).toBeGreaterThan(0.9 * middle);
  });
});
