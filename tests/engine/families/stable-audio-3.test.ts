/**
 * The stable-audio-3 family adapter over the stand-in pack's real sessions: the latent length rule, T5Gemma-style
 * tokenization (pad/truncate to 256, pad id 0, no special tokens), conditioning rows, the DiT's closed-form velocity
 * through a fixed-batch graph, and chunked stereo decoding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StableAudio3Model } from '../../../src-main/engine/families/stable-audio-3.ts';
import { StableAudio3Model as Model } from '../../../src-main/engine/families/stable-audio-3.ts';
import { loadTokenizer } from '../../../src-main/host/packs/load.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';
import { f32, sliceBatch } from '../../../src-main/engine/tensor/tensor.ts';
import { standinVocabulary, voiceLevel, VOICES } from '../../../src-main/packs/sa3/index.ts';
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
    const v = await model.predict(f32(x, [3, C, frames, 1]), t, rows);
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
