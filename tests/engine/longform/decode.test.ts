/**
 * Chunked VAE decoding and vocoding (research/longform.md §5.3, §6) against full-length runs on the built-in packs'
 * real ORT sessions: exact where the network is local (sketch decoder, both vocoders), close and seamless where it
 * is not (shape-s decoder: GroupNorm + mid-block attention).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loudAndQuiet } from '../../../src-main/cli/bench-vae-decode.ts';
import { CancelledError } from '../../../src-main/engine/errors.ts';
import { vaeGeometryOf, vocoderGeometryOf } from '../../../src-main/engine/families/audioldm/decode.ts';
import type { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import {
  DEFAULT_VOCODER_CORE_MEL_FRAMES,
  decodeChunked,
  decodePlanFor,
  planDecode,
  vocodeChunked,
  vocodePlanFor,
  type DecodeChunkedOptions,
  type VocodeChunkedOptions,
} from '../../../src-main/engine/longform/decode.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';
import { f32, i64, type F32, type Tensor } from '../../../src-main/engine/tensor/tensor.ts';
import { openBuiltin } from '../../helpers/packs.ts';

const BINS = 64;
const MEL_PER_LATENT = 4;

let sketch: AudioLdmModel;
let shape: AudioLdmModel;
beforeAll(async () => {
  [sketch, shape] = await Promise.all([openBuiltin('sketch'), openBuiltin('shape-s')]);
});
afterAll(async () => {
  await sketch?.dispose();
  await shape?.dispose();
});

/** decodeChunked over a model's VAE call and its pack's geometry. */
function decodeWith(model: AudioLdmModel, latent: F32, options?: DecodeChunkedOptions): Promise<F32> {
  return decodeChunked((l) => model.decode(l), latent, vaeGeometryOf(model.manifest), options);
}

/** vocodeChunked over a model's vocoder call and its pack's geometry. */
function vocodeWith(model: AudioLdmModel, mel: F32, options?: VocodeChunkedOptions): Promise<Float32Array> {
  return vocodeChunked((m, offset) => model.vocode(m, offset), mel, vocoderGeometryOf(model.manifest), options);
}

/** A seeded latent [1, 8, T, 16]; `smoothFrames` > 1 averages it over time so the decoded mel varies slowly. */
function seededLatent(frames: number, seed: number, smoothFrames = 1): F32 {
  const raw = createRng(seed).normals(8 * frames * 16);
  if (smoothFrames <= 1) return f32(raw, [1, 8, frames, 16]);
  const out = new Float32Array(raw.length);
  const half = Math.floor(smoothFrames / 2);
  for (let c = 0; c < 8; c++) {
    for (let t = 0; t < frames; t++) {
      const lo = Math.max(0, t - half);
      const hi = Math.min(frames - 1, t + half);
      for (let q = 0; q < 16; q++) {
        let s = 0;
        for (let u = lo; u <= hi; u++) s += raw[(c * frames + u) * 16 + q];
        // × √n keeps roughly unit variance after averaging n frames.
        out[(c * frames + t) * 16 + q] = (s / (hi - lo + 1)) * Math.sqrt(hi - lo + 1);
      }
    }
  }
  return f32(out, [1, 8, frames, 16]);
}

/** A log-mel-like [1, 1, F, 64]: a falling spectral tilt, slow random level changes and frame noise, ≥ ln 1e-5. */
function seededMel(frames: number, seed: number): F32 {
  const rng = createRng(seed);
  const data = new Float32Array(frames * BINS);
  let level = 0;
  for (let n = 0; n < frames; n++) {
    level = 0.98 * level + 0.3 * rng.normal();
    for (let b = 0; b < BINS; b++) data[n * BINS + b] = Math.max(-11.5129, -2 - (6 * b) / BINS + level + 0.8 * rng.normal());
  }
  return f32(data, [1, 1, frames, BINS]);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Mean over frames of the RMS over bins of a − b: LSD (longform.md §7 M4) in the mel's own log units. */
function logMelDistance(a: Float32Array, b: Float32Array): number {
  const frames = a.length / BINS;
  let sum = 0;
  for (let n = 0; n < frames; n++) {
    let s = 0;
    for (let k = 0; k < BINS; k++) s += (a[n * BINS + k] - b[n * BINS + k]) ** 2;
    sum += Math.sqrt(s / BINS);
  }
  return sum / frames;
}

/** Mean absolute difference over bins between frame n and n − 1. */
function frameStep(x: Float32Array, n: number): number {
  let s = 0;
  for (let k = 0; k < BINS; k++) s += Math.abs(x[n * BINS + k] - x[(n - 1) * BINS + k]);
  return s / BINS;
}

function median(values: number[]): number {
  const sorted = [...values].sort((p, q) => p - q);
  return sorted[sorted.length >> 1];
}

/** Records the dims of one input of every `run` of a session (the session still runs). */
function spyOnInput(model: AudioLdmModel, session: 'vaeDecoder' | 'vocoder', input: string): { dims: number[][]; restore: () => void } {
  const dims: number[][] = [];
  const target = model.sessions[session];
  const run = target.run.bind(target);
  const spy = vi.spyOn(target, 'run').mockImplementation((feeds: Record<string, Tensor>) => {
    const t = feeds[input];
    if (t) dims.push([...t.dims]);
    return run(feeds);
  });
  return { dims, restore: () => spy.mockRestore() };
}

describe('planDecode', () => {
  it.each([
    [752, 256, 32, 32],
    [600, 256, 13, 16],
    [1000, 100, 20, 7],
    [700, 256, 32, 0],
  ])('T %i, core %i, halo %i, crossfade %i: weights sum to one, fades have halo context in both decodes', (total, core, halo, x) => {
    const { chunks, lead, lag } = planDecode(total, core, halo, x, MEL_PER_LATENT);
    expect(chunks.length).toBeGreaterThan(1);
    expect(lead + lag).toBe(x);
    const width = chunks[0].end - chunks[0].start;
    const cover = new Float64Array(MEL_PER_LATENT * total);
    chunks.forEach((c, k) => {
      expect(c.end - c.start).toBe(width);
      // Latent frames the written mel frames come from, and the context around them.
      const first = Math.floor(c.melStart / MEL_PER_LATENT);
      const last = Math.floor((c.melEnd - 1) / MEL_PER_LATENT);
      expect(c.start === 0 || first - c.start >= halo).toBe(true);
      expect(c.end === total || c.end - 1 - last >= halo).toBe(true);
      for (let m = c.melStart; m < c.melEnd; m++) {
        const fadeIn = k > 0 && m < MEL_PER_LATENT * c.keepStart + lag;
        const fadeOut = k < chunks.length - 1 && m >= MEL_PER_LATENT * c.keepEnd - lead;
        cover[m] += fadeIn ? (m - (MEL_PER_LATENT * c.keepStart - lead) + 0.5) / x : fadeOut ? 1 - (m - (MEL_PER_LATENT * c.keepEnd - lead) + 0.5) / x : 1;
      }
    });
    for (const w of cover) expect(w).toBeCloseTo(1, 12);
  });

  it('rejects a crossfade longer than a chunk core', () => {
    expect(() => planDecode(600, 16, 4, 80, MEL_PER_LATENT)).toThrow(/crossfadeMelFrames 80 is longer than the thinnest chunk core/);
    expect(() => planDecode(600, 256, 4, -1, MEL_PER_LATENT)).toThrow(/crossfadeMelFrames must be an integer ≥ 0, got -1/);
  });
});

describe('vocodeChunked', () => {
  it('shape-s (HiFi-GAN layout): 4 chunks of one shape match the full-length vocoder to 1e-5', async () => {
    const mel = seededMel(2000, 11);
    const full = (await shape.vocode(mel)).data;
    const spy = spyOnInput(shape, 'vocoder', 'mel');
    const progress: Array<[number, number]> = [];
    const chunked = await vocodeWith(shape, mel, { core: 512, onChunk: (done, total) => progress.push([done, total]) });
    spy.restore();
    const halo = shape.manifest.decode.vocoderHaloMelFrames;
    expect(halo).toBeGreaterThanOrEqual(22);
    expect(spy.dims).toEqual(Array.from({ length: 4 }, () => [1, 512 + 2 * halo, BINS]));
    expect(progress).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    expect(chunked.length).toBe(160 * 2000 + 32);
    const err = maxAbsDiff(chunked, full);
    console.info(`shape-s vocoder, F 2000, core 512, halo ${halo}: max|Δ| ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-5);
  });

  it('shape-s: a halo of 4 mel frames (below the receptive field) is clearly worse', async () => {
    const mel = seededMel(1200, 12);
    const full = (await shape.vocode(mel)).data;
    const exact = maxAbsDiff(await vocodeWith(shape, mel, { core: 400 }), full);
    const short = maxAbsDiff(await vocodeWith(shape, mel, { core: 400, halo: 4 }), full);
    console.info(`shape-s vocoder, core 400: halo 23 max|Δ| ${exact.toExponential(2)}, halo 4 max|Δ| ${short.toExponential(2)}`);
    expect(exact).toBeLessThanOrEqual(1e-5);
    expect(short).toBeGreaterThan(1e-3);
  });

  it('sketch: chunks fed their absolute sample offset match the full vocoder on a real ~30 s decode', async () => {
    const latent = seededLatent(sketch.latentFramesFor(30), 21);
    const mel = await sketch.decode(latent);
    expect(mel.dims).toEqual([1, 1, 3008, BINS]);
    const full = (await sketch.vocode(mel)).data;
    const progress: number[] = [];
    const chunked = await vocodeWith(sketch, mel, { onChunk: (done) => progress.push(done) });
    expect(progress).toEqual([1, 2, 3]);
    const err = maxAbsDiff(chunked, full);
    console.info(`sketch vocoder, F 3008, core 1024, halo ${sketch.manifest.decode.vocoderHaloMelFrames}: max|Δ| ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-5);

    // Without the offset every chunk restarts the partials' phase and the noise tables at sample 0.
    const target = sketch.sessions.vocoder;
    const run = target.run.bind(target);
    const zeroed = vi.spyOn(target, 'run').mockImplementation((feeds: Record<string, Tensor>) => run({ ...feeds, sample_offset: i64([0], [1]) }));
    const unaligned = maxAbsDiff(await vocodeWith(sketch, mel), full);
    zeroed.mockRestore();
    console.info(`sketch vocoder without sample_offset: max|Δ| ${unaligned.toExponential(2)}`);
    expect(unaligned).toBeGreaterThan(1e-2);
  });

  it('one call, identical to model.vocode, when the mel fits one chunk', async () => {
    const mel = seededMel(300, 13);
    const progress: Array<[number, number]> = [];
    const chunked = await vocodeWith(shape, mel, { onChunk: (done, total) => progress.push([done, total]) });
    expect(Array.from(chunked)).toEqual(Array.from((await shape.vocode(mel)).data));
    expect(progress).toEqual([[1, 1]]);
  });

  it('stops between chunks when the signal fires', async () => {
    const controller = new AbortController();
    const spy = spyOnInput(sketch, 'vocoder', 'mel');
    const run = vocodeWith(sketch, seededMel(2000, 14), { core: 256, signal: controller.signal, onChunk: () => controller.abort() });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await expect(run).rejects.toThrow(/cancelled during vocode/);
    spy.restore();
    expect(spy.dims).toHaveLength(1);
  });

  it('rejects a batch or the wrong bin count', async () => {
    await expect(vocodeWith(sketch, f32(new Float32Array(2 * 10 * BINS), [2, 1, 10, BINS]))).rejects.toThrow(/must be \[1, 1, F, 64\]/);
    await expect(vocodeWith(sketch, f32(new Float32Array(10 * 80), [1, 1, 10, 80]))).rejects.toThrow(/must be \[1, 1, F, 64\]/);
  });
});

describe('decodeChunked', () => {
  it('sketch (±1-frame decoder, no normalisation): equals the full decode on a ~30 s latent', async () => {
    const latent = seededLatent(sketch.latentFramesFor(30), 31);
    const full = (await sketch.decode(latent)).data;
    const spy = spyOnInput(sketch, 'vaeDecoder', 'latent');
    const progress: number[] = [];
    const mel = await decodeWith(sketch, latent, { onChunk: (done) => progress.push(done) });
    spy.restore();
    expect(mel.dims).toEqual([1, 1, 4 * 752, BINS]);
    // Default: core 256, halo max(1, 32) + 4 latent frames for the 32-frame crossfade → 328 per call.
    expect(spy.dims).toEqual(Array.from({ length: 3 }, () => [1, 8, 328, 16]));
    expect(progress).toEqual([1, 2, 3]);
    const err = maxAbsDiff(mel.data, full);
    console.info(`sketch decoder, T 752, defaults: max|Δ| ${err.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(1e-5);
    // Crop-and-stitch alone is exact too: the crossfade only mixes two identical decodes.
    expect(maxAbsDiff((await decodeWith(sketch, latent, { crossfadeMelFrames: 0, halo: 2 })).data, full)).toBeLessThanOrEqual(1e-5);
  });

  it('shape-s (GroupNorm + attention): close to the full decode, finite, and seamless at the joins', async () => {
    // Slowly varying content, so a level step at a join would stand out against the frame-to-frame change.
    const total = 600;
    const latent = seededLatent(total, 41, 9);
    const full = (await shape.decode(latent)).data;
    const spy = spyOnInput(shape, 'vaeDecoder', 'latent');
    const mel = await decodeWith(shape, latent);
    spy.restore();
    const plain = (await decodeWith(shape, latent, { crossfadeMelFrames: 0 })).data;
    expect(mel.dims).toEqual([1, 1, 4 * total, BINS]);
    expect(spy.dims).toEqual(Array.from({ length: 3 }, () => [1, 8, 328, 16]));
    expect(mel.data.every(Number.isFinite)).toBe(true);

    const lsd = logMelDistance(mel.data, full);
    const { chunks } = planDecode(total, 256, 32, 32, MEL_PER_LATENT);
    const joins = chunks.slice(0, -1).map((c) => MEL_PER_LATENT * c.keepEnd);
    const steps: number[] = [];
    for (let n = 1; n < 4 * total; n++) steps.push(frameStep(full, n));
    const typical = median(steps);
    // (a) The brief's check: the mel's own frame-to-frame change at each join vs its median.
    const joinStep = joins.map((j) => frameStep(mel.data, j) / typical);
    // (b) A sharper one: the largest frame step of (chunked − full) within ±16 frames of a join, i.e. the seam
    // itself with the content removed, for the crossfaded and the plain crop-and-stitch decode.
    const seam = (x: Float32Array): number[] => {
      const diff = x.map((v, i) => v - full[i]);
      return joins.map((j) => Math.max(...Array.from({ length: 33 }, (_, i) => frameStep(diff, j - 16 + i))) / typical);
    };
    const faded = seam(mel.data);
    const stitched = seam(plain);
    console.info(
      `shape-s decoder, T ${total}, defaults: LSD ${lsd.toFixed(4)} (log-mel units), median frame step ${typical.toFixed(3)}, ` +
        `join step / median ${joinStep.map((s) => s.toFixed(2)).join(', ')}, seam step / median: crossfade ` +
        `${faded.map((s) => s.toFixed(3)).join(', ')}, plain ${stitched.map((s) => s.toFixed(3)).join(', ')}`,
    );
    expect(lsd).toBeLessThan(0.1);
    for (const s of joinStep) expect(s).toBeLessThan(3);
    for (let i = 0; i < joins.length; i++) expect(faded[i]).toBeLessThan(stitched[i]);
    for (const s of faded) expect(s).toBeLessThan(0.2);
  });

  it('shape-s: a loudness change near a join leaves no level step (level-matched joins), per-chunk statistics alone do', async () => {
    // Quiet and loud stretches of 500 frames: the chunks around the join at 20.48 s hold different mixes of the two,
    // so their per-chunk GroupNorm statistics put the same frames at different levels.
    const total = 768;
    const latent = loudAndQuiet(total, 500);
    const full = await shape.decode(latent);
    const { chunks } = planDecode(total, 256, 32, 32, MEL_PER_LATENT);
    const joins = chunks.slice(0, -1).map((c) => MEL_PER_LATENT * c.keepEnd);
    const DB = 20 / Math.LN10;
    // Mean log-mel error against the one-pass decode just right minus just left of each join (outside the fade).
    const levelSteps = (mel: F32): number[] =>
      joins.map((j) => DB * (meanLevel(mel.data, j + 16, j + 48) - meanLevel(full.data, j + 16, j + 48) - (meanLevel(mel.data, j - 48, j - 16) - meanLevel(full.data, j - 48, j - 16))));
    const matched = levelSteps(await decodeWith(shape, latent));
    const unmatched = levelSteps(await decodeWith(shape, latent, { levelMatch: false }));
    console.info(`shape-s decoder, loudness change near a join: level step vs one pass (dB) matched ${matched.map((s) => s.toFixed(2)).join(', ')}, unmatched ${unmatched.map((s) => s.toFixed(2)).join(', ')}`);
    expect(Math.max(...unmatched.map(Math.abs)), 'the oracle must see the step per-chunk statistics make').toBeGreaterThan(6);
    for (const s of matched) expect(Math.abs(s)).toBeLessThan(2);
    // Three shape-s decodes of 30 s (one pass and two chunked, 5–11 s on a busy 2-core host): a timeout of its own.
  }, 300_000);

  it('one call, identical to model.decode, when the latent fits one chunk', async () => {
    const latent = seededLatent(320, 51);
    const progress: Array<[number, number]> = [];
    const mel = await decodeWith(shape, latent, { onChunk: (done, total) => progress.push([done, total]) });
    expect(Array.from(mel.data)).toEqual(Array.from((await shape.decode(latent)).data));
    expect(progress).toEqual([[1, 1]]);
  });

  it('stops between chunks when the signal fires', async () => {
    const controller = new AbortController();
    const spy = spyOnInput(sketch, 'vaeDecoder', 'latent');
    const run = decodeWith(sketch, seededLatent(1000, 52), { signal: controller.signal, onChunk: () => controller.abort() });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await expect(run).rejects.toThrow(/cancelled during decode/);
    spy.restore();
    expect(spy.dims).toHaveLength(1);
  });

  it('rejects latents of the wrong layout', async () => {
    await expect(decodeWith(sketch, f32(new Float32Array(2 * 8 * 8 * 16), [2, 8, 8, 16]))).rejects.toThrow(/must be \[1, 8, T, 16\]/);
    await expect(decodeWith(sketch, f32(new Float32Array(4 * 8 * 16), [1, 4, 8, 16]))).rejects.toThrow(/must be \[1, 8, T, 16\]/);
  });
});

describe('chunked decode and vocode take plain functions', () => {
  // Pure-logic fakes: a pointwise "VAE" (each latent frame → r mel frames) and a position-dependent "vocoder"
  // (phase from the absolute sample index), so any correct chunking reproduces the one-call output.
  const vae = { channels: 2, bins: 3, melPerLatent: 2, melBins: 4, core: 16, receptiveField: 1 };
  const fakeDecode = async (latent: F32): Promise<F32> => {
    const [, C, w, Fq] = latent.dims;
    const mel = new Float32Array(vae.melPerLatent * w * vae.melBins);
    for (let m = 0; m < vae.melPerLatent * w; m++) {
      const t = Math.floor(m / vae.melPerLatent);
      let s = 0;
      for (let c = 0; c < C; c++) for (let q = 0; q < Fq; q++) s += latent.data[(c * w + t) * Fq + q] * (c + 1);
      for (let b = 0; b < vae.melBins; b++) mel[m * vae.melBins + b] = s * (b + 1) + (m % vae.melPerLatent);
    }
    return f32(mel, [1, 1, vae.melPerLatent * w, vae.melBins]);
  };
  const vocoder = { hop: 5, extraSamples: 3, melBins: 4, receptiveField: 0 };
  const fakeVocode = async (mel: F32, sampleOffset: number): Promise<F32> => {
    const frames = mel.dims[2];
    const wave = new Float32Array(vocoder.hop * frames + vocoder.extraSamples);
    for (let i = 0; i < wave.length; i++) wave[i] = Math.sin(0.01 * (sampleOffset + i)) * mel.data[Math.min(frames - 1, Math.floor(i / vocoder.hop)) * vocoder.melBins];
    return f32(wave, [1, wave.length]);
  };

  it('decodeChunked calls the function once per chunk and matches one call', async () => {
    const latent = f32(createRng(61).normals(2 * 100 * 3), [1, 2, 100, 3]);
    const full = (await fakeDecode(latent)).data;
    const widths: number[] = [];
    const decode = (l: F32): Promise<F32> => {
      widths.push(l.dims[2]);
      return fakeDecode(l);
    };
    const mel = await decodeChunked(decode, latent, vae, { crossfadeMelFrames: 4 });
    expect(widths.length).toBeGreaterThan(1);
    expect(new Set(widths).size).toBe(1);
    expect(mel.dims).toEqual([1, 1, 200, 4]);
    expect(maxAbsDiff(mel.data, full)).toBeLessThanOrEqual(1e-4);
  });

  it('vocodeChunked passes each chunk its absolute first sample and matches one call', async () => {
    const mel = f32(createRng(62).normals(300 * 4), [1, 1, 300, 4]);
    const full = (await fakeVocode(mel, 0)).data;
    const offsets: number[] = [];
    const vocode = (m: F32, offset: number): Promise<F32> => {
      offsets.push(offset);
      return fakeVocode(m, offset);
    };
    const wave = await vocodeChunked(vocode, mel, vocoder, { core: 64, halo: 2 });
    expect(offsets[0]).toBe(0);
    expect(offsets.length).toBeGreaterThan(1);
    expect(wave.length).toBe(5 * 300 + 3);
    expect(maxAbsDiff(wave, full)).toBeLessThanOrEqual(1e-6);
  });

  it('decodeChunked decodes a latent of up to two cores in one pass (the exact decode), a longer one in chunks', async () => {
    // AudioLDM's geometry (cores of 256, receptive field 17 → halo 32 + 4 → calls of 328) over a pointwise fake.
    const geometry = { ...vae, melPerLatent: MEL_PER_LATENT, core: 256, receptiveField: 17 };
    const pointwise = async (latent: F32): Promise<F32> => {
      const [, C, w, Fq] = latent.dims;
      const mel = new Float32Array(MEL_PER_LATENT * w * vae.melBins);
      for (let m = 0; m < MEL_PER_LATENT * w; m++) {
        const t = Math.floor(m / MEL_PER_LATENT);
        for (let b = 0; b < vae.melBins; b++) for (let c = 0; c < C; c++) mel[m * vae.melBins + b] += latent.data[(c * w + t) * Fq + (b % Fq)];
      }
      return f32(mel, [1, 1, MEL_PER_LATENT * w, vae.melBins]);
    };
    const widthsFor = async (total: number, options?: DecodeChunkedOptions): Promise<number[]> => {
      const latent = f32(createRng(total).normals(2 * total * 3), [1, 2, total, 3]);
      const widths: number[] = [];
      const mel = await decodeChunked((l) => (widths.push(l.dims[2]), pointwise(l)), latent, geometry, options);
      if (widths.length === 1) expect(Array.from(mel.data)).toEqual(Array.from((await pointwise(latent)).data));
      return widths;
    };
    // 10.24 s, 10.24 s + a little, 16 s and 20.48 s: one call each (400 and 512 frames used to take two calls of 328).
    for (const total of [256, 300, 400, 512]) expect(await widthsFor(total)).toEqual([total]);
    expect(await widthsFor(513)).toEqual([328, 328, 328]);
    expect(await widthsFor(400, { singlePassFrames: 256 })).toEqual([328, 328]);
    expect(decodePlanFor(geometry, 512).chunks).toHaveLength(1);
    expect(decodePlanFor(geometry, 1500).chunks).toHaveLength(6);
  });

  it('vocodePlanFor fits the default cores to the mel (no call computes frames another keeps), and keeps a given core', () => {
    const geometry = { ...vocoder, receptiveField: 23 };
    const widths = (total: number, options?: VocodeChunkedOptions): number[] => vocodePlanFor(geometry, total, options).map((c) => c.end - c.start);
    // 10.24 s and up to a default chunk with its halos: one call.
    expect(widths(1024)).toEqual([1024]);
    expect(widths(1070)).toEqual([1070]);
    // 11 s: two cores of 550 (fixed cores of 1024 took two calls of 1070); 60 s: six of 1000.
    expect(widths(1100)).toEqual([596, 596]);
    expect(widths(6000)).toEqual(Array.from({ length: 6 }, () => 1046));
    for (const total of [1071, 2049, 3000, 18000]) {
      const chunks = vocodePlanFor(geometry, total);
      expect(chunks.length).toBe(Math.ceil(total / DEFAULT_VOCODER_CORE_MEL_FRAMES));
      expect(chunks[0].keepStart).toBe(0);
      expect(chunks[chunks.length - 1].keepEnd).toBe(total);
      for (let k = 1; k < chunks.length; k++) expect(chunks[k].keepStart).toBe(chunks[k - 1].keepEnd);
      for (const c of chunks) expect(c.keepEnd - c.keepStart).toBeLessThanOrEqual(DEFAULT_VOCODER_CORE_MEL_FRAMES);
    }
    expect(widths(2000, { core: 512 })).toEqual([558, 558, 558, 558]);
  });

  it('vocodeChunked with the fitted default cores matches one call', async () => {
    const geometry = { ...vocoder, receptiveField: 23 };
    const mel = f32(createRng(63).normals(1100 * 4), [1, 1, 1100, 4]);
    const widths: number[] = [];
    const wave = await vocodeChunked((m, offset) => (widths.push(m.dims[2]), fakeVocode(m, offset)), mel, geometry);
    expect(widths).toEqual([596, 596]);
    expect(maxAbsDiff(wave, (await fakeVocode(mel, 0)).data)).toBeLessThanOrEqual(1e-6);
  });
});

/** Mean of a [·, 64] log-mel over frames [from, to). */
function meanLevel(mel: Float32Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from * BINS; i < to * BINS; i++) sum += mel[i];
  return sum / ((to - from) * BINS);
}
