/**
 * The ONNX graphs of the stable-audio-3 stand-in, with analytic weights, on the I/O contract of
 * research/stableaudio.md §4.2 (community bundle) or §4.5 (official export). See docs/SA3-STANDIN.md.
 */
import { GraphBuilder } from '../graph/builder.ts';
import { createRng } from '../../engine/tensor/rng.ts';
import {
  BANK_CHANNELS,
  BASE_LEVEL,
  DURATION_DIM,
  HIDDEN,
  LATENT_CHANNELS,
  LATENT_STD,
  MAX_SECONDS,
  SAMPLE_RATE,
  SAMPLES_PER_FRAME,
  SILENT_LEVEL,
  TEXT_TOKENS,
  VOICE_CHANNELS,
  VOICE_RMS,
  VOICES,
  standinVocabulary,
  wordLatent,
} from './recipe.ts';
import { FIRST_WORD_ID } from './tokenizer.ts';

/** Which contract the graphs follow (engine/families/stable-audio-3/contract.ts). */
export type StandinVariant = 'community' | 'official';
/** The DiT's batch dimension: fixed at 1 as research §4.2 lists it, or symbolic (windows in one call). */
export type DitBatch = 'fixed' | 'symbolic';

/** Voices per bank and banks (left, right). */
const VOICE_COUNT = VOICES.length;
const BANKS = 2;
/** Latent frames per second (44100 / 4096, exact in binary). */
const FPS = SAMPLE_RATE / SAMPLES_PER_FRAME;

/**
 * Text encoder: a lookup table where vocabulary word i is the unit vector e_i ∈ R^768 and every other token
 * (pad, specials, punctuation, `<unk>`) is zero, masked by attention_mask → hidden states [1, 256, 768].
 */
export function buildTextEncoder(variant: StandinVariant): Uint8Array {
  const words = standinVocabulary();
  if (words.length > DURATION_DIM) throw new Error(`stand-in vocabulary has ${words.length} words; at most ${DURATION_DIM} fit`);
  const vocabSize = FIRST_WORD_ID + words.length;
  const table = new Float32Array(vocabSize * HIDDEN);
  words.forEach((_, i) => (table[(FIRST_WORD_ID + i) * HIDDEN + i] = 1));
  const g = new GraphBuilder('sa3_standin_text_encoder');
  const ids = g.input('input_ids', 'int64', [1, TEXT_TOKENS]);
  const mask = g.input('attention_mask', 'int64', [1, TEXT_TOKENS]);
  const emb = g.op('Gather', [g.f32('token_vectors', table, [vocabSize, HIDDEN]), ids], { axis: 0 });
  const m = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 1 }), g.i64('axis', [2])]);
  g.output(g.op('Mul', [emb, m]), variant === 'community' ? 'last_hidden_state' : 'hidden_states', 'float32', [1, TEXT_TOKENS, HIDDEN]);
  return g.toBytes('Tessera stable-audio-3 stand-in: one-hot word text encoder (not T5Gemma, not trained)');
}

/** Number conditioner: seconds [1] → a duration token [1, 1, 768] holding clamp(seconds, 0, 384)/384 in dim 767. */
export function buildNumberConditioner(): Uint8Array {
  const g = new GraphBuilder('sa3_standin_number_conditioner');
  const seconds = g.input('seconds', 'float32', [1]);
  const unit = g.op('Div', [g.op('Clip', [seconds, g.scalar(0), g.scalar(MAX_SECONDS)]), g.scalar(MAX_SECONDS)]);
  const onehot = new Float32Array(HIDDEN);
  onehot[DURATION_DIM] = 1;
  const token = g.op('Mul', [g.op('Reshape', [unit, g.i64('shape', [1, 1, 1])]), g.f32('duration_dim', onehot, [1, 1, HIDDEN])]);
  g.output(token, 'embedding', 'float32', [1, 1, HIDDEN]);
  return g.toBytes('Tessera stable-audio-3 stand-in: seconds_total number conditioner (not trained)');
}

/** Word → latent offsets as a [768, 256] matrix (rows past the vocabulary, including the duration dim, are 0). */
function wordMatrix(): Float32Array {
  const a = new Float32Array(HIDDEN * LATENT_CHANNELS);
  standinVocabulary().forEach((w, i) => a.set(wordLatent(w), i * LATENT_CHANNELS));
  return a;
}

/**
 * DiT: the closed-form velocity of a rectified flow x_t = (1 − t)·x₀ + t·ε for data x₀ ~ N(μ, s²I), s = LATENT_STD:
 *   x̂₀ = μ + κ·(x_t − (1 − t)·μ),  κ = (1 − t)·s² / ((1 − t)²·s² + t²),  v = (x_t − x̂₀) / t,
 * so the sampler's x − t·v is exactly E[x₀ | x_t]. μ[c, n] = BASE_LEVEL + Σ_words offsets[c] for frames n below
 * seconds_total·fps (the duration token), SILENT_LEVEL after them (the model's silent tail past the request).
 * The prompt's words are the sum of the text tokens (one-hot rows); padding_mask zeroes masked frames' velocity;
 * local_add_cond (inpainting) is accepted and not used. With a symbolic batch every row is computed alike; t and
 * seconds_total stay [1] (shared by the rows of one call).
 */
export function buildDit(variant: StandinVariant, batch: DitBatch = 'fixed'): Uint8Array {
  const g = new GraphBuilder('sa3_standin_dit');
  const B = batch === 'fixed' ? 1 : 'B';
  const x = g.input('x', 'float32', [B, LATENT_CHANNELS, 'T']);
  const t = g.input('t', 'float32', [1]);
  let words: string;
  let seconds: string;
  let frameMask: string | undefined;
  if (variant === 'community') {
    const cross = g.input('cross_attn_cond', 'float32', [B, TEXT_TOKENS + 1, HIDDEN]);
    const global = g.input('global_embed', 'float32', [B, HIDDEN]);
    g.input('local_add_cond', 'float32', [B, LATENT_CHANNELS + 1, 'T']);
    const padding = g.input('padding_mask', 'bool', [B, 'T']);
    words = g.op('ReduceSum', [cross, g.i64('axes', [1])], { keepdims: 0 });
    const unit = g.op('Slice', [global, g.i64('starts', [DURATION_DIM]), g.i64('ends', [DURATION_DIM + 1]), g.i64('axes', [1])]);
    seconds = g.op('Mul', [unit, g.scalar(MAX_SECONDS)]);
    frameMask = g.op('Unsqueeze', [g.op('Cast', [padding], { to: 1 }), g.i64('axis', [1])]);
  } else {
    const hidden = g.input('t5_hidden', 'float32', [B, TEXT_TOKENS, HIDDEN]);
    const mask = g.input('t5_mask', 'float32', [B, TEXT_TOKENS]);
    const total = g.input('seconds_total', 'float32', [1]);
    g.input('local_add_cond', 'float32', [B, LATENT_CHANNELS + 1, 'T']);
    const masked = g.op('Mul', [hidden, g.op('Unsqueeze', [mask, g.i64('axis', [2])])]);
    words = g.op('ReduceSum', [masked, g.i64('axes', [1])], { keepdims: 0 });
    seconds = g.op('Reshape', [g.op('Clip', [total, g.scalar(0), g.scalar(MAX_SECONDS)]), g.i64('shape', [1, 1])]); // one per call
  }
  const content = g.op('Add', [g.op('MatMul', [words, g.f32('word_latents', wordMatrix(), [HIDDEN, LATENT_CHANNELS])]), g.scalar(BASE_LEVEL)]);
  // Frame n holds content while n < seconds·fps.
  const frames = g.op('Cast', [g.op('Gather', [g.op('Shape', [x]), g.i64('time_axis', [2], [])], { axis: 0 })], { to: 1 });
  const n = g.op('Range', [g.scalar(0), frames, g.scalar(1)]);
  const inside = g.op('Cast', [g.op('Less', [n, g.op('Mul', [seconds, g.scalar(FPS)])])], { to: 1 });
  const silent = g.scalar(SILENT_LEVEL);
  const mu = g.op('Add', [g.op('Mul', [g.op('Unsqueeze', [inside, g.i64('axis', [1])]), g.op('Sub', [g.op('Unsqueeze', [content, g.i64('axis', [2])]), silent])]), silent]);
  const oneMinusT = g.op('Sub', [g.scalar(1), t]);
  const s2 = g.scalar(LATENT_STD ** 2);
  const kappa = g.op('Div', [g.op('Mul', [oneMinusT, s2]), g.op('Add', [g.op('Mul', [g.op('Mul', [oneMinusT, oneMinusT]), s2]), g.op('Mul', [t, t])])]);
  const x0 = g.op('Add', [mu, g.op('Mul', [kappa, g.op('Sub', [x, g.op('Mul', [oneMinusT, mu])])])]);
  let v = g.op('Div', [g.op('Sub', [x, x0]), g.op('Max', [t, g.scalar(1e-6)])]);
  if (frameMask) v = g.op('Mul', [v, frameMask]);
  g.output(v, variant === 'community' ? 'out' : 'velocity', 'float32', [B, LATENT_CHANNELS, 'T']);
  return g.toBytes('Tessera stable-audio-3 stand-in: closed-form rectified-flow velocity for a Gaussian latent (not trained)');
}

/** One period (4096 samples) of every voice's carrier, bank-major ([bank·8 + voice][n]), each at unit RMS. */
export function voiceCarriers(seed: number): Float32Array {
  const rng = createRng(seed, 1);
  const out = new Float32Array(BANKS * VOICE_COUNT * SAMPLES_PER_FRAME);
  const N = SAMPLES_PER_FRAME;
  for (let b = 0; b < BANKS; b++) {
    VOICES.forEach((voice, k) => {
      const partials: Array<[number, number]> = voice.kind === 'tone' ? voice.partials.map(([m, a]) => [m, a]) : [];
      if (voice.kind === 'noise') for (let m = voice.band[0]; m <= voice.band[1]; m++) partials.push([m, 1]);
      const phases = partials.map(() => 2 * Math.PI * rng.uniform());
      const wave = new Float64Array(N);
      partials.forEach(([m, a], p) => {
        for (let i = 0; i < N; i++) wave[i] += a * Math.cos((2 * Math.PI * ((m * i) % N)) / N + phases[p]);
      });
      const rms = Math.sqrt(wave.reduce((s, w) => s + w * w, 0) / N);
      const base = (b * VOICE_COUNT + k) * N;
      for (let i = 0; i < N; i++) out[base + i] = wave[i] / rms;
    });
  }
  return out;
}

/**
 * Decoder: per latent frame, voice (b, k) plays at VOICE_RMS·max(0, z̄) where z̄ is the mean of its 16 channels;
 * the levels are interpolated linearly between frame centres (Resize, half-pixel) to 4096 samples per frame and
 * multiply the voices' carriers (one 4096-sample period, so chunks starting on a frame are in phase); each bank's
 * voices sum to one output channel: audio [1, 2, 4096·T] (left, right). The official variant returns `pcm`,
 * int32 [1, 4096·T, 2] interleaved and scaled by 32768. Receptive field: ±1 latent frame.
 */
export function buildDecoder(variant: StandinVariant, seed: number): Uint8Array {
  const voices = BANKS * VOICE_COUNT;
  const pool = new Float32Array(LATENT_CHANNELS * voices);
  for (let b = 0; b < BANKS; b++) {
    for (let k = 0; k < VOICE_COUNT; k++) {
      for (let j = 0; j < VOICE_CHANNELS; j++) pool[(b * BANK_CHANNELS + k * VOICE_CHANNELS + j) * voices + b * VOICE_COUNT + k] = 1 / VOICE_CHANNELS;
    }
  }
  const g = new GraphBuilder('sa3_standin_decoder');
  const z = g.input(variant === 'community' ? 'latents' : 'latent', 'float32', [1, LATENT_CHANNELS, 'T']);
  const mean = g.op('MatMul', [g.op('Transpose', [z], { perm: [0, 2, 1] }), g.f32('voice_pool', pool, [LATENT_CHANNELS, voices])]);
  const level = g.op('Mul', [g.op('Relu', [mean]), g.scalar(VOICE_RMS)]);
  const perVoice = g.op('Unsqueeze', [g.op('Transpose', [level], { perm: [0, 2, 1] }), g.i64('axis', [3])]);
  const envelope = g.op('Resize', [perVoice, '', g.f32('scales', [1, 1, SAMPLES_PER_FRAME, 1], [4])], {
    mode: 'linear',
    coordinate_transformation_mode: 'half_pixel',
  });
  const framed = g.op('Reshape', [envelope, g.i64('framed', [1, voices, -1, SAMPLES_PER_FRAME])]);
  const sound = g.op('Mul', [framed, g.f32('carriers', voiceCarriers(seed), [voices, 1, SAMPLES_PER_FRAME])]);
  const banks = g.op('Reshape', [sound, g.i64('banks', [1, BANKS, VOICE_COUNT, -1])]);
  const audio = g.op('ReduceSum', [banks, g.i64('axes', [2])], { keepdims: 0 });
  if (variant === 'community') {
    g.output(audio, 'audio', 'float32', [1, BANKS, 'S']);
  } else {
    const clipped = g.op('Clip', [g.op('Transpose', [audio], { perm: [0, 2, 1] }), g.scalar(-1), g.scalar(32767 / 32768)]);
    g.output(g.op('Cast', [g.op('Round', [g.op('Mul', [clipped, g.scalar(32768)])])], { to: 6 }), 'pcm', 'int32', [1, 'S', BANKS]);
  }
  return g.toBytes('Tessera stable-audio-3 stand-in: latent channels → stereo tones and noise bands (not SAME, not trained)');
}
