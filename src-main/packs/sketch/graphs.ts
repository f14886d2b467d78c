/**
 * The four ONNX graphs of the sketch pack, with analytic weights, on the exact audioldm contract
 * (research/audioldm.md §3): text_encoder, unet, vae_decoder, vocoder.
 */
import { GraphBuilder } from '../graph/builder.ts';
import { createRng } from '../../engine/tensor/rng.ts';
import { FIRST_WORD_ID } from '../tokenizer.ts';
import { SKETCH_BINS, TONAL_BINS, binPowerWeights, noiseBandEdges, sketchVocabulary, wordTemplate, type SketchRecipe } from './recipe.ts';

/** CLAP text embedding width of AudioLDM (research/audioldm.md §3.1). */
export const TEXT_DIM = 512;
const LATENT_C = 8;
const LATENT_F = 16;
const LATENT_DIM = LATENT_C * LATENT_F;
const SR = 16000;
/** Samples per mel frame and vocoder length offset (research/audioldm.md §1: hop 160, 160·F + 32). */
const HOP = 160;
const EXTRA = 32;
/** Tonal partials sit on a 25 Hz grid, i.e. repeat every 640 samples (see recipe.ts). */
const PARTIAL_PERIOD = 640;
/** Coprime lengths of the two white-noise tables: their sum repeats only every 16381·16383 samples (4.7 h). */
const NOISE_TABLES = [16381, 16383] as const;

/**
 * Bag-of-words text encoder: word i of the vocabulary is the unit vector e_i; the prompt embedding is the
 * L2-normalised, attention-masked sum of its tokens' vectors. Special tokens and punctuation embed to zero.
 */
export function buildTextEncoder(recipe: SketchRecipe): Uint8Array {
  const words = sketchVocabulary(recipe);
  if (words.length > TEXT_DIM) throw new Error(`sketch vocabulary has ${words.length} words; at most ${TEXT_DIM} fit`);
  const vocabSize = FIRST_WORD_ID + words.length;
  const table = new Float32Array(vocabSize * TEXT_DIM);
  words.forEach((_, i) => (table[(FIRST_WORD_ID + i) * TEXT_DIM + i] = 1));
  const g = new GraphBuilder('sketch_text_encoder');
  const ids = g.input('input_ids', 'int64', ['B', 'S']);
  const mask = g.input('attention_mask', 'int64', ['B', 'S']);
  const emb = g.op('Gather', [g.f32('word_vectors', table, [vocabSize, TEXT_DIM]), ids], { axis: 0 });
  const m = g.op('Unsqueeze', [g.op('Cast', [mask], { to: 1 }), g.i64('axis', [2])]);
  const sum = g.op('ReduceSum', [g.op('Mul', [emb, m]), g.i64('axes', [1])], { keepdims: 0 });
  g.output(l2Normalise(g, sum), 'text_embeds', 'float32', ['B', TEXT_DIM]);
  return g.toBytes('Tessera sketch pack: bag-of-words text encoder (demo, not trained)');
}

/** x / max(‖x‖₂, 1e-12) along axis 1, as in research/audioldm.md §3.1. */
function l2Normalise(g: GraphBuilder, x: string): string {
  const norm = g.op('Sqrt', [g.op('ReduceSum', [g.op('Mul', [x, x]), g.i64('axes', [1])], { keepdims: 1 })]);
  return g.op('Div', [x, g.op('Max', [norm, g.scalar(1e-12)])]);
}

/**
 * Latent mean μ(word) ∈ R^{8×16}: mel bin m reads latent elements 2m and 2m+1 (flattened channel·16 + freq)
 * with weight `melPerLatent` each, so μ_{2m} = μ_{2m+1} = s_m / (2·melPerLatent) reproduces the template s.
 */
export function wordLatentMeans(recipe: SketchRecipe): Float32Array {
  const words = sketchVocabulary(recipe);
  const a = new Float32Array(TEXT_DIM * LATENT_DIM);
  words.forEach((w, i) => {
    const s = wordTemplate(recipe, w);
    for (let m = 0; m < SKETCH_BINS; m++) {
      const mu = s[m] / (2 * recipe.melPerLatent);
      a[i * LATENT_DIM + 2 * m] = mu;
      a[i * LATENT_DIM + 2 * m + 1] = mu;
    }
  });
  return a;
}

/**
 * The closed-form optimal ε-predictor for data x₀ ~ N(μ(text), σ²I): with x_t = √ᾱ x₀ + √(1−ᾱ) ε,
 * E[ε | x_t] = √(1−ᾱ)·(x_t − √ᾱ·μ) / (ᾱσ² + 1 − ᾱ). ᾱ is looked up from the timestep inside the graph.
 */
export function buildUnet(recipe: SketchRecipe, alphasCumprod: Float64Array): Uint8Array {
  const g = new GraphBuilder('sketch_unet');
  const { x, abar, mu } = unetPrologue(g, recipe, alphasCumprod);
  const oneMinus = g.op('Sub', [g.scalar(1), abar]);
  const variance = g.op('Add', [g.op('Mul', [abar, g.scalar(recipe.latentStd ** 2)]), oneMinus]);
  const residual = g.op('Sub', [x, g.op('Mul', [g.op('Sqrt', [abar]), mu])]);
  const eps = g.op('Div', [g.op('Mul', [g.op('Sqrt', [oneMinus]), residual]), variance]);
  g.output(eps, 'noise_pred', 'float32', ['N', LATENT_C, 'T', LATENT_F]);
  return g.toBytes('Tessera sketch pack: closed-form Gaussian ε-predictor (demo, not trained)');
}

/**
 * The UNet inputs of the sketch contract (sample [N, 8, T, 16], timestep [N], class_labels [N, 512]) and what every
 * analytic sketch-family UNet derives from them first: ᾱ looked up from the timestep ([N, 1, 1, 1]) and the prompt's
 * latent mean μ = A·class_labels ([N, 8, 1, 16]). Shared by sketch and sketch-gp (same node order, so the same bytes).
 */
export function unetPrologue(g: GraphBuilder, recipe: SketchRecipe, alphasCumprod: Float64Array): { x: string; abar: string; mu: string } {
  const x = g.input('sample', 'float32', ['N', LATENT_C, 'T', LATENT_F]);
  const t = g.input('timestep', 'float32', ['N']);
  const labels = g.input('class_labels', 'float32', ['N', TEXT_DIM]);
  const last = alphasCumprod.length - 1;
  const tIndex = g.op('Cast', [g.op('Floor', [g.op('Clip', [g.op('Add', [t, g.scalar(0.5)]), g.scalar(0), g.scalar(last)])])], { to: 7 });
  const abar = g.op('Reshape', [g.op('Gather', [g.f32('alphas_cumprod', alphasCumprod, [alphasCumprod.length]), tIndex], { axis: 0 }), g.i64('shape', [-1, 1, 1, 1])]);
  const mu = g.op('Reshape', [g.op('MatMul', [labels, g.f32('word_means', wordLatentMeans(recipe), [TEXT_DIM, LATENT_DIM])]), g.i64('shape', [-1, LATENT_C, 1, LATENT_F])]);
  return { x, abar, mu };
}

/**
 * Decoder: per latent frame, synthesis bin m = melBias + melPerLatent·(z_{2m} + z_{2m+1}); then ×4 linear
 * interpolation in time (edge-padded transposed convolution with a triangle kernel) to [B, 1, 4T, 64].
 */
export function buildVaeDecoder(recipe: SketchRecipe): Uint8Array {
  const w = new Float32Array(LATENT_DIM * SKETCH_BINS);
  for (let m = 0; m < SKETCH_BINS; m++) {
    w[2 * m * SKETCH_BINS + m] = recipe.melPerLatent;
    w[(2 * m + 1) * SKETCH_BINS + m] = recipe.melPerLatent;
  }
  const tri = new Float32Array(SKETCH_BINS * 8);
  for (let c = 0; c < SKETCH_BINS; c++) for (let j = 0; j < 8; j++) tri[c * 8 + j] = 1 - Math.abs(j - 3.5) / 4;
  const g = new GraphBuilder('sketch_vae_decoder');
  const z = g.input('latent', 'float32', ['B', LATENT_C, 'T', LATENT_F]);
  const frames = g.op('Reshape', [g.op('Transpose', [z], { perm: [0, 2, 1, 3] }), g.i64('shape', [0, 0, LATENT_DIM])]);
  const bins = g.op('Add', [g.op('MatMul', [frames, g.f32('decode', w, [LATENT_DIM, SKETCH_BINS])]), g.scalar(recipe.melBias)]);
  const chan = g.op('Transpose', [bins], { perm: [0, 2, 1] });
  const padded = g.op('Pad', [chan, g.i64('pads', [0, 0, 1, 0, 0, 1])], { mode: 'edge' });
  // (T+2−1)·4 + 8 − 6 − 6 = 4T output frames; every output is a convex combination of two neighbours.
  const up = g.op('ConvTranspose', [padded, g.f32('interp', tri, [SKETCH_BINS, 1, 8])], { strides: [4], pads: [6, 6], group: SKETCH_BINS, kernel_shape: [8] });
  const mel = g.op('Unsqueeze', [g.op('Transpose', [up], { perm: [0, 2, 1] }), g.i64('axis', [1])]);
  g.output(mel, 'mel', 'float32', ['B', 1, 'F', SKETCH_BINS]);
  return g.toBytes('Tessera sketch pack: linear decoder to a 64-bin synthesis spectrogram (demo, not trained)');
}

/**
 * Vocoder: per mel frame, amplitudes a_k ∝ exp(mel_k) normalised so the frame's power is outputRms²; overlap-added
 * at hop 160 with a periodic Hann window of 320 (sums to one) into envelopes; envelopes multiply phase-continuous
 * partials (integer phase arithmetic, exact for any length) and band-limited noise; tanh like HiFi-GAN's output.
 */
export function buildVocoder(recipe: SketchRecipe): Uint8Array {
  const rng = createRng(recipe.seed, 1);
  const g = new GraphBuilder('sketch_vocoder');
  const melIn = g.input('mel', 'float32', ['B', 'F', SKETCH_BINS]);
  const offset = g.input('sample_offset', 'int64', ['B']);
  const mel = g.op('Transpose', [melIn], { perm: [0, 2, 1] });
  // Log power of each frame, lp = log Σ_k w_k·exp(2·mel_k), computed around the frame maximum so exp() stays finite
  // for any guidance scale.
  const peak = g.op('ReduceMax', [mel], { axes: [1], keepdims: 1 });
  const weights = g.f32('power_weights', binPowerWeights(recipe), [1, SKETCH_BINS, 1]);
  const rel = g.op('Exp', [g.op('Mul', [g.op('Sub', [mel, peak]), g.scalar(2)])]);
  const logPower = g.op('Add', [g.op('Mul', [peak, g.scalar(2)]), g.op('Log', [g.op('ReduceSum', [g.op('Mul', [rel, weights]), g.i64('axes', [1])], { keepdims: 1 })])]);
  // Every frame is normalised by its own log power, so every frame plays at outputRms. The latent encodes timbre
  // (a log spectrum), and the raw power of what it decodes is no level to keep: it differs by 25 dB between prompts
  // ("low deep drone" 83 dB, "bright bell tone" 58 dB) and falls about 60 dB midway through a prompt join, where the
  // blended latent decodes to the two templates' geometric-mean spectrum. A slow control (lp averaged over ±0.5 s, in
  // packs up to 1.0.0+b2) could not follow that: each join swelled 5–9 dB, then dipped 16–19 dB below both sides,
  // and even a hard switch (no transition) swelled and dipped up to 8–9 dB (issue 12). The price of a per-frame
  // control is small: a frame's power jitters by 0.9–2.3 dB (sd) inside a region, and its loudest bins' jitter now
  // moves the other bins by as much.
  const gainLog = g.op('Min', [g.op('Sub', [mel, g.op('Mul', [logPower, g.scalar(0.5)])]), g.scalar(10)]);
  const scaled = g.op('Mul', [g.op('Exp', [gainLog]), g.scalar(recipe.outputRms)]);
  const hann = new Float32Array(SKETCH_BINS * 2 * HOP);
  for (let c = 0; c < SKETCH_BINS; c++) for (let j = 0; j < 2 * HOP; j++) hann[c * 2 * HOP + j] = 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / (2 * HOP));
  // (F−1)·160 + 320 − 64 − 64 = 160·F + 32 samples, the HiFi-GAN length of research/audioldm.md §1.
  const env = g.op('ConvTranspose', [scaled, g.f32('hann', hann, [SKETCH_BINS, 1, 2 * HOP])], { strides: [HOP], pads: [64, 64], group: SKETCH_BINS, kernel_shape: [2 * HOP] });

  const frameCount = g.op('Gather', [g.op('Shape', [melIn]), g.i64('index', [1])], { axis: 0 });
  const length = g.op('Add', [g.op('Mul', [frameCount, g.i64('hop', [HOP])]), g.i64('extra', [EXTRA])]);
  // n[b, i] = sample_offset[b] + i: absolute sample numbers, so a chunk vocoded alone matches the full pass.
  const local = g.op('Range', [g.i64('zero', [0], []), g.op('Squeeze', [length]), g.i64('one', [1], [])]);
  const n = g.op('Add', [g.op('Unsqueeze', [local, g.i64('axis', [0])]), g.op('Unsqueeze', [offset, g.i64('axis', [1])])]);
  const carriers = g.op('Concat', [tonalCarriers(g, recipe, n, rng), noiseCarriers(g, recipe, n, rng)], { axis: 1 });
  const wave = g.op('Tanh', [g.op('ReduceSum', [g.op('Mul', [env, carriers]), g.i64('axes', [1])], { keepdims: 0 })]);
  g.output(wave, 'waveform', 'float32', ['B', 'L']);
  return g.toBytes('Tessera sketch pack: additive partials + band-noise vocoder (demo, not trained)');
}

/** [B, 40, L]: cos(2π·((n·m_k) mod 640)/640 + φ_k) for partial k at 25·m_k Hz; seeded phases avoid a click train. */
function tonalCarriers(g: GraphBuilder, recipe: SketchRecipe, n: string, rng: ReturnType<typeof createRng>): string {
  const multiples = recipe.tonalHz.map((hz) => (hz * PARTIAL_PERIOD) / SR);
  const phases = recipe.tonalHz.map(() => 2 * Math.PI * rng.uniform());
  const cycles = g.op('Mod', [g.op('Mul', [g.op('Unsqueeze', [n, g.i64('axis', [1])]), g.i64('multiples', multiples, [1, TONAL_BINS, 1])]), g.i64('period', [PARTIAL_PERIOD], [])]);
  const angle = g.op('Add', [g.op('Mul', [g.op('Cast', [cycles], { to: 1 }), g.scalar((2 * Math.PI) / PARTIAL_PERIOD)]), g.f32('phases', phases, [1, TONAL_BINS, 1])]);
  return g.op('Cos', [angle]);
}

/**
 * [B, 24, L]: white noise from two seeded tables indexed by absolute sample number, filtered by one windowed-sinc
 * band-pass per band (zero-padded at the call's edges: within 127 samples, inside any chunk halo).
 */
function noiseCarriers(g: GraphBuilder, recipe: SketchRecipe, n: string, rng: ReturnType<typeof createRng>): string {
  const [p1, p2] = NOISE_TABLES;
  const t1 = g.f32('noise_a', rng.normals(p1).map((x) => x * Math.SQRT1_2), [p1]);
  const t2 = g.f32('noise_b', rng.normals(p2).map((x) => x * Math.SQRT1_2), [p2]);
  const white = g.op('Add', [
    g.op('Gather', [t1, g.op('Mod', [n, g.i64('p1', [p1], [])])], { axis: 0 }),
    g.op('Gather', [t2, g.op('Mod', [n, g.i64('p2', [p2], [])])], { axis: 0 }),
  ]);
  const taps = recipe.noiseBands.firTaps;
  const edges = noiseBandEdges(recipe);
  const fir = new Float32Array(edges.length * taps);
  edges.forEach(([lo, hi], b) => {
    const h = bandPass(lo / SR, hi / SR, taps);
    // Unit-variance white input → output power (hi − lo)/reference, the bin's power weight.
    const energy = h.reduce((s, x) => s + x * x, 0);
    const gain = Math.sqrt((hi - lo) / recipe.noiseBands.referenceBandwidthHz / energy);
    h.forEach((x, i) => (fir[b * taps + i] = x * gain));
  });
  return g.op('Conv', [g.op('Unsqueeze', [white, g.i64('axis', [1])]), g.f32('bandpass', fir, [edges.length, 1, taps])], { pads: [(taps - 1) / 2, (taps - 1) / 2], kernel_shape: [taps] });
}

/** Hann-windowed sinc band-pass between normalised frequencies f1 < f2 (cycles per sample). */
function bandPass(f1: number, f2: number, taps: number): Float64Array {
  const h = new Float64Array(taps);
  const mid = (taps - 1) / 2;
  const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
  for (let i = 0; i < taps; i++) {
    const k = i - mid;
    const window = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (taps - 1));
    h[i] = (2 * f2 * sinc(2 * f2 * k) - 2 * f1 * sinc(2 * f1 * k)) * window;
  }
  return h;
}
