/**
 * The stable-audio-3 family adapter over the stand-in pack's real sessions: the latent length rule, T5Gemma-style
 * tokenization (pad/truncate to 256, pad id 0, no special tokens), conditioning rows, the DiT's closed-form velocity
 * through a fixed-batch graph, and chunked stereo decoding.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import FFT from 'fft.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../src-main/engine/errors.ts';
import { textToAudio, type TextToAudioResult } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { loadPaddingEmbedding, openModel } from '../../../src-main/host/packs/load.ts';
import { writePack } from '../../../src-main/host/packs/write.ts';
import type { StableAudio3Model } from '../../../src-main/engine/families/stable-audio-3/model.ts';
import { StableAudio3Model as Model } from '../../../src-main/engine/families/stable-audio-3/model.ts';
import { loadTokenizer } from '../../../src-main/host/packs/load.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';
import { f32, sliceBatch } from '../../../src-main/engine/tensor/tensor.ts';
import { buildSa3StandinPack, standinVocabulary, voiceLevel, VOICES, wordEmbedding } from '../../../src-main/packs/sa3/index.ts';
import { FIRST_WORD_ID } from '../../../src-main/packs/sa3/tokenizer.ts';
import { openStandin, standinPack } from '../../helpers/packs.ts';

const L = 256;
const H = 768;
const C = 256;
const S = 4096;
let model: StableAudio3Model;
beforeAll(async () => {
  model = await openStandin();
});
afterAll(async () => model?.dispose());

const wordId = (w: string): number => FIRST_WORD_ID + standinVocabulary().indexOf(w);

describe('latent length rule (research/stableaudio.md §3 "Variable length")', () => {
  it.each([
    [10, 174],
    [30, 388],
    [120, 1358],
    [180, 2004],
    [0.1, 66],
  ])('%s s → T = ceil((s + 6)·44100/8192)·2 = %i', (seconds, frames) => {
    expect(model.latentFramesFor(seconds)).toBe(frames);
    expect(frames).toBe(Math.ceil(((seconds + 6) * 44100) / 8192) * 2);
    expect(model.samplesFor(seconds)).toBe(Math.round(seconds * 44100));
  });

  it.each([
    [5, 120, 118],
    [10, 174, 172],
    [30, 388, 387],
    [60, 712, 710],
    [113, 1282, 1281],
    [113.82, 1292, 1290],
    [114, 1292, 1292],
    [118, 1292, 1292],
    [120, 1292, 1292],
  ])('the reference with its 1292-frame window: %s s → L = %i frames, padding_mask true for %i', async (seconds, frames, valid) => {
    // SA3 model.py `_adapt_sample_size` (capped at sample_size 5292032 = 1292·4096) and sampling.py's padding mask.
    const pack = await standinPack();
    const real = new Model({ ...pack.manifest, latent: { ...pack.manifest.latent, nativeWindowFrames: 1292 } }, model.sessions, await loadTokenizer(pack));
    expect(real.latentFramesFor(seconds)).toBe(frames);
    expect(real.validFrames({ seconds, frames, window: frames })).toBe(valid);
  });

  it('past the window the piece is tiled with its full headroom (120.01 s with a 1292-frame window)', async () => {
    const pack = await standinPack();
    const real = new Model({ ...pack.manifest, latent: { ...pack.manifest.latent, nativeWindowFrames: 1292 } }, model.sessions, await loadTokenizer(pack));
    expect(real.latentFramesFor(120.01)).toBe(1358);
    expect(real.validFrames({ seconds: 120.01, frames: 1358, window: 1292 })).toBe(1293 + 64);
  });

  it('geometry: 256 channels × T × 1, 10.77 frames/s, the manifest window; detected contract: community', () => {
    expect(model.geometry).toEqual({ channels: 256, bins: 1, framesPerSecond: 44100 / 4096, nativeWindowFrames: 256 });
    expect(model.contract).toEqual({
      textEncoder: { hidden: 'last_hidden_state' },
      numberConditioner: { seconds: 'seconds', embedding: 'embedding' },
      dit: { variant: 'community', output: 'out' },
      decoder: { latents: 'latents', output: 'audio', layout: 'planar-float' },
    });
  });
});

describe('tokenization (T5Gemma rules, research §4.2, §5 step 2)', () => {
  it('no special tokens (the manifest says so, although tokenizer.json would add <bos>), right-padded with 0 to 256', () => {
    const { ids, mask } = model.tokenize('Low drone, on the left');
    expect(ids).toHaveLength(L);
    expect(mask).toHaveLength(L);
    expect(ids.slice(0, 6)).toEqual([wordId('low'), wordId('drone'), 4, wordId('on'), wordId('the'), wordId('left')]);
    expect(ids.slice(6).every((id) => id === 0)).toBe(true);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('applies the post-processor (<bos> = 2) when a manifest asks for special tokens', async () => {
    const pack = await standinPack();
    const manifest = { ...pack.manifest, tokenizer: { ...pack.manifest.tokenizer, addSpecialTokens: true } };
    const withBos = new Model(manifest, model.sessions, await loadTokenizer(pack));
    expect(withBos.tokenize('rain').ids.slice(0, 3)).toEqual([2, wordId('rain'), 0]);
  });

  it('truncates keeping the special tokens, as Hugging Face tokenizers do with truncation=True', async () => {
    const pack = await standinPack();
    const withBos = new Model({ ...pack.manifest, tokenizer: { ...pack.manifest.tokenizer, addSpecialTokens: true } }, model.sessions, await loadTokenizer(pack));
    const long = withBos.tokenize(Array.from({ length: 300 }, () => 'rain').join(' '));
    expect(long.ids[0]).toBe(2); // <bos> stays
    expect(long.ids.slice(1).every((id) => id === wordId('rain'))).toBe(true);
    expect(long.dropped).toBe(300 - 255);
    const { truncated } = await withBos.encodeConditions(['rain '.repeat(300).trim(), 'rain'], { seconds: 5, frames: 120, window: 120 });
    expect(truncated).toEqual([{ prompt: 'rain '.repeat(300).trim(), maxTokens: 256, droppedTokens: 45 }]);
  });

  it('truncates to 256 tokens; an empty prompt is all padding', () => {
    const long = model.tokenize(Array.from({ length: 300 }, () => 'rain').join(' '));
    expect(long.ids.every((id) => id === wordId('rain'))).toBe(true);
    expect(long.mask.every((m) => m === 1)).toBe(true);
    const empty = model.tokenize('');
    expect(empty.ids.every((id) => id === 0)).toBe(true);
    expect(empty.mask.every((m) => m === 0)).toBe(true);
  });
});

describe('conditioning rows (community: cross_attn_cond = [text, duration], global_embed = duration)', () => {
  it('row = 256 hidden states, then the duration token twice; seconds_total = the piece when it is one window', async () => {
    const context = { seconds: 10, frames: 174, window: 174 };
    expect(model.secondsTotalFor(context)).toBe(10);
    const { rows, unknownWords } = await model.encodeConditions(['low drone', 'purple drone'], context);
    expect(rows.dims).toEqual([2, (L + 2) * H]);
    expect(unknownWords).toEqual(['purple']);
    const row = sliceBatch(rows, 0, 1).data;
    expect(row[0 * H + standinVocabulary().indexOf('low')]).toBe(1);
    expect(row[1 * H + standinVocabulary().indexOf('drone')]).toBe(1);
    expect(row.subarray(2 * H, L * H).every((x) => x === 0)).toBe(true); // pad rows
    const duration = row.subarray(L * H, (L + 1) * H);
    expect(duration[H - 1]).toBeCloseTo(10 / 384, 7);
    expect(Array.from(row.subarray((L + 1) * H))).toEqual(Array.from(duration));
  });

  it('a tiled piece conditions every window on a full window of seconds (research/longform.md §4)', () => {
    expect(model.secondsTotalFor({ seconds: 180, frames: 2004, window: 256 })).toBeCloseTo(256 / (44100 / 4096), 9);
    expect(model.secondsTotalFor({ seconds: 1000, frames: 1000, window: 1000 })).toBe(384); // clamped to the conditioner's range
  });
});

describe('DiT velocity (closed form, fixed batch of 1 run row by row)', () => {
  it('x − t·v equals E[x₀ | x_t] for each row\'s prompt, and content stops at seconds_total', async () => {
    const seconds = 2;
    const frames = 34; // 2 s of content (21.5 frames), then silence
    const { rows } = await model.encodeConditions(['low drone on the left', 'bright hiss on the right', ''], { seconds, frames, window: frames });
    const t = 0.5;
    const x = createRng(3).normals(3 * C * frames);
    const v = await model.predict(f32(x, [3, C, frames, 1]), t, rows, { piece: { seconds, frames, window: frames }, starts: [0, 0, 0] });
    expect(v.dims).toEqual([3, C, frames, 1]);
    const s2 = 0.0625;
    const kappa = ((1 - t) * s2) / ((1 - t) ** 2 * s2 + t * t);
    const prompts = [['low', 'drone', 'on', 'the', 'left'], ['bright', 'hiss', 'on', 'the', 'right'], []];
    let worst = 0;
    prompts.forEach((words, r) => {
      for (const [voice, k] of [['drone', 0], ['hiss', 7]] as const) {
        for (const bank of [0, 1] as const) {
          const c = bank * 128 + k * 16 + 5;
          for (const n of [0, 21, 22, 33]) {
            const mu = n < seconds * (44100 / 4096) ? voiceLevel(words, voice, bank) : -1.5;
            const i = (r * C + c) * frames + n;
            const x0 = mu + kappa * (x[i] - (1 - t) * mu);
            worst = Math.max(worst, Math.abs(x[i] - t * v.data[i] - x0));
          }
        }
      }
    });
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('decodeAudio: stereo, 4096 samples per frame, chunked exactly', () => {
  /** A latent whose left drone voice is at z̄ = 1 and everything else off. */
  const leftDrone = (frames: number): Float32Array => {
    const z = new Float32Array(C * frames).fill(-1);
    for (let j = 0; j < 16; j++) z.fill(1, j * frames, (j + 1) * frames);
    return z;
  };

  it('maps latent channels to voices: the left drone plays left at the voice RMS, the right stays silent', async () => {
    const frames = 40;
    const { channels, seams } = await model.decodeAudio(f32(leftDrone(frames), [1, C, frames, 1]), { vaeDecode: 'window' });
    expect(channels).toHaveLength(2);
    expect(channels[0]).toHaveLength(frames * S);
    expect(seams).toEqual({ decode: [], vocode: [] });
    const rms = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    expect(rms(channels[0])).toBeCloseTo(0.1, 3);
    expect(rms(channels[1])).toBe(0);
    expect(VOICES[0].name).toBe('drone');
  });

  it('chunks of 128 frames (halo 2) reproduce a one-call decode exactly, with onAudio and progress per chunk', async () => {
    const frames = 500;
    const z = createRng(8).normals(C * frames);
    const pack = await standinPack();
    const whole = new Model({ ...pack.manifest, decode: { chunkLatentFrames: 1000, haloLatentFrames: 2 } }, model.sessions, await loadTokenizer(pack));
    const progress: number[] = [];
    let previewed = 0;
    const chunked = await model.decodeAudio(f32(z, [1, C, frames, 1]), {
      vaeDecode: 'window',
      onProgress: (p) => progress.push(p.chunk),
      onAudio: (start, channels) => {
        expect(start).toBe(previewed);
        previewed += channels[0].length;
      },
    });
    const one = await whole.decodeAudio(f32(z, [1, C, frames, 1]), { vaeDecode: 'window' });
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(previewed).toBe(frames * S);
    expect(chunked.seams.decode).toHaveLength(3);
    let worst = 0;
    for (let ch = 0; ch < 2; ch++) for (let i = 0; i < frames * S; i++) worst = Math.max(worst, Math.abs(chunked.channels[ch][i] - one.channels[ch][i]));
    expect(worst).toBe(0);
  });
});

describe('padding_mask: frames past the requested audio and its headroom are masked (SA3 sampling.py)', () => {
  it('the DiT gets false for frames ≥ audio frames + 64, per window position; the stand-in returns v = 0 there', async () => {
    const piece = { seconds: 10, frames: 174, window: 174 };
    const { rows } = await model.encodeConditions(['drone', 'drone'], piece);
    const x = createRng(5).normals(C * 174);
    const v = await model.predict(f32(x, [1, C, 174, 1]), 0.5, sliceBatch(rows, 0, 1), { piece, starts: [0] });
    const frame = (n: number): number[] => Array.from({ length: C }, (_, c) => v.data[c * 174 + n]);
    expect(frame(171).some((y) => y !== 0)).toBe(true);
    expect(frame(172).every((y) => y === 0)).toBe(true);
    expect(frame(173).every((y) => y === 0)).toBe(true);
    // Two tiled windows of 74 frames: the one starting at 100 has its last two frames masked, the first none.
    const tiled = { seconds: 10, frames: 174, window: 74 };
    const w = new Float32Array(2 * C * 74);
    for (let c = 0; c < C; c++) {
      w.set(x.subarray(c * 174, c * 174 + 74), c * 74);
      w.set(x.subarray(c * 174 + 100, c * 174 + 174), (C + c) * 74);
    }
    const vt = await model.predict(f32(w, [2, C, 74, 1]), 0.5, rows, { piece: tiled, starts: [0, 100] });
    const at = (row: number, n: number): number => vt.data[(row * C + 7) * 74 + n];
    expect(at(0, 73)).not.toBe(0);
    expect(at(1, 71)).not.toBe(0);
    expect(Math.abs(at(1, 72))).toBe(0);
    expect(Math.abs(at(1, 73))).toBe(0);
  });
});

describe('the learned padding embedding (text.paddingEmbedding, the SFX DiT)', () => {
  let work = '';
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'tessera-sa3-padding-'));
  });
  afterAll(async () => rm(work, { recursive: true, force: true }));

  it('overwrites the padded rows of every prompt, so a padding embedding along "hiss" makes "low drone" hiss', async () => {
    const built = buildSa3StandinPack({ id: 'sa3-padding', paddingEmbedding: wordEmbedding('hiss', 0.004) });
    const pack = await writePack(built, join(work, 'padding'));
    expect(pack.manifest.family === 'stable-audio-3' && pack.manifest.text.paddingEmbedding?.file).toBe('padding_embedding.json');
    const padded = await openModel(pack, { device: 'cpu', intraOpThreads: 1 });
    try {
      const request = { seconds: 8, seed: 3, steps: 8, guidance: 1, sampler: 'pingpong' as const, eta: 0, prompt: 'low drone' };
      const hissShare = (r: TextToAudioResult): number => bandShare(r.channels[0], 5000, 15000);
      const withPadding = await textToAudio(padded, request);
      const without = await textToAudio(model, request);
      expect(hissShare(without)).toBeLessThan(0.01);
      // 254 padded rows × 0.004 along "hiss" (+1.5 each): hiss z̄ = −0.5 + 1.524 ≈ 1.02 next to the drone's 1.6, so
      // hiss holds 1.02² / (1.02² + 1.6² + bass) ≈ 29 % of the power.
      expect(hissShare(withPadding)).toBeGreaterThan(0.25);
      expect(hissShare(withPadding)).toBeLessThan(0.35);
    } finally {
      await padded.dispose();
    }
  });

  it('a padding embedding of the wrong length or shape is refused naming the file and the hidden size', async () => {
    const pack = await writePack(buildSa3StandinPack({ id: 'sa3-padding-bad', paddingEmbedding: wordEmbedding('hiss', 1) }), join(work, 'bad'));
    if (pack.manifest.family !== 'stable-audio-3') throw new Error('not sa3');
    await writeFile(join(pack.dir, 'padding_embedding.json'), '[1, 2, 3]\n');
    await expect(loadPaddingEmbedding({ dir: pack.dir, manifest: pack.manifest })).rejects.toThrow(/padding_embedding\.json must be 768 finite numbers \(text\.hiddenSize\); it has 3 entries/);
    await writeFile(join(pack.dir, 'padding_embedding.json'), JSON.stringify({ padding_embedding: wordEmbedding('rain', 1) }));
    expect((await loadPaddingEmbedding({ dir: pack.dir, manifest: pack.manifest }))?.length).toBe(768);
  });
});

describe('guidance on the official export', () => {
  it('is refused with the reason: its DiT cannot take the reference\'s all-zero unconditional input', async () => {
    const work = await mkdtemp(join(tmpdir(), 'tessera-sa3-official-'));
    const official = await openModel(await writePack(buildSa3StandinPack({ variant: 'official', id: 'sa3-official-g' }), join(work, 'official')), { device: 'cpu', intraOpThreads: 1 });
    try {
      const request = { seconds: 4, seed: 1, steps: 2, guidance: 3, sampler: 'pingpong' as const, eta: 0, prompt: 'drone' };
      await expect(textToAudio(official, request)).rejects.toThrow(InvalidRequestError);
      await expect(textToAudio(official, request)).rejects.toThrow(/official Stable Audio 3 ONNX export.*guidance above 1 is not available for this pack/s);
      expect((await textToAudio(official, { ...request, guidance: 1 })).channels).toHaveLength(2);
    } finally {
      await official.dispose();
      await rm(work, { recursive: true, force: true });
    }
  });
});

/** Share of a signal's power between lo and hi Hz (one FFT over the first 2^17 samples). */
function bandShare(signal: Float32Array, lo: number, hi: number): number {
  const n = 1 << 17;
  const fft = new FFT(n);
  const out = fft.createComplexArray() as number[];
  fft.realTransform(out, Array.from(signal.subarray(0, n)));
  let inside = 0;
  let total = 0;
  for (let k = 1; k <= n / 2; k++) {
    const p = out[2 * k] ** 2 + out[2 * k + 1] ** 2;
    total += p;
    const hz = (k * 44100) / n;
    if (hz >= lo && hz <= hi) inside += p;
  }
  return inside / total;
}
