/**
 * The shape pack's vocoder: AudioLDM's HiFi-GAN (`HIFIGAN_16K_64`, research/audioldm.md §1, §3.4) with random weights.
 *
 * mel[B,F,64] → transpose [B,64,F] → conv_pre k7 → five stages of LeakyReLU(0.1) → ConvTranspose1d(k, u,
 * padding (k−u)/2) halving the channels → multi-receptive-field block (mean of ResBlock1s: per dilation d,
 * LeakyReLU → Conv(k, d) → LeakyReLU → Conv(k, 1), residual) → LeakyReLU(0.01) → conv_post k7 (init scaled down,
 * {@link OUTPUT_GAIN}) → tanh → [B, L].
 * Length: the stages give 5F+1, 20F+4, 40F+8, 80F+16 and L = 160F + 32 samples. No normalisation anywhere, so the
 * vocoder is exactly shift-equivariant (one mel frame ↔ 160 samples) and chunkable with a halo ≥ its receptive field.
 */
import type { Rng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import {
  type BuiltGraph,
  type IntervalMap,
  type Net,
  RESIDUAL_GAIN,
  add,
  conv1d,
  convSpan,
  convTranspose1d,
  createNet,
  filled,
  finishNet,
  ints,
  leakyGain,
  leakyRelu,
  parallelSpan,
  transpose,
  transposedConvSpan,
  traceBack,
} from '../graph/nn.ts';

/** Sizes of the vocoder (AudioLDM: upsample_initial_channel 1024, resblock kernels [3, 7, 11]). */
export interface VocoderSize {
  /** upsample_initial_channel; each stage halves it. */
  initialChannels: number;
  /** MRF kernel sizes (AudioLDM: [3, 7, 11]). */
  resblockKernels: readonly number[];
}

/** AudioLDM's HiFi-GAN upsampling: rates multiply to the 160-sample hop. */
export const UPSAMPLE_RATES = [5, 4, 2, 2, 2] as const;
/** Kernel of each ConvTranspose1d stage. */
export const UPSAMPLE_KERNELS = [16, 16, 8, 4, 4] as const;
/** Dilations of every ResBlock1 (kept at every width so the receptive field is AudioLDM's). */
export const RESBLOCK_DILATIONS = [1, 3, 5] as const;
const MEL_BINS = 64;
const SLOPE = 0.1;
const FINAL_SLOPE = 0.01;
/**
 * Init gain of conv_post (AudioLDM's layout is unchanged; only this layer's random weights are scaled). With 0.5 the
 * random stack's pre-tanh signal had RMS ≈ 0.85 and peaks ≈ 4.4 on a bounded latent's mel, so tanh saturated every
 * generation (peak 1.000, RMS 0.53, crest 1.9, whatever the latent); 0.15 keeps it near tanh's linear range (10 s,
 * default shape-s: peak 0.89, RMS 0.22, crest 4.0). Measured by the pack's generations, not derived.
 */
const OUTPUT_GAIN = 0.15;

function resBlock1(net: Net, x: string, c: number, k: number): string {
  let h = x;
  for (const d of RESBLOCK_DILATIONS) {
    let t = conv1d(net, leakyRelu(net, h, SLOPE), c, c, k, { dilation: d, gain: leakyGain(SLOPE) });
    t = conv1d(net, leakyRelu(net, t, SLOPE), c, c, k, { gain: RESIDUAL_GAIN * 2 * leakyGain(SLOPE) });
    h = add(net, h, t);
  }
  return h;
}

/** Builds `vocoder.onnx` for `size` with weights from `rng`. */
export function buildVocoder(size: VocoderSize, rng: Rng): BuiltGraph {
  const stages = UPSAMPLE_RATES.length;
  if (size.initialChannels % 2 ** stages !== 0) {
    throw new Error(`vocoder: initialChannels ${size.initialChannels} must be a multiple of ${2 ** stages} (halved ${stages} times)`);
  }
  const g = new GraphBuilder('shape_vocoder');
  const net = createNet(g, rng);
  const mel = g.input('mel', 'float32', ['B', 'F', MEL_BINS]);
  let ch = size.initialChannels;
  let h = conv1d(net, transpose(net, mel, [0, 2, 1]), MEL_BINS, ch, 7);
  UPSAMPLE_RATES.forEach((u, i) => {
    const k = UPSAMPLE_KERNELS[i];
    h = convTranspose1d(net, leakyRelu(net, h, SLOPE), ch, ch / 2, k, u, (k - u) / 2, { gain: leakyGain(SLOPE) });
    ch /= 2;
    const branches = size.resblockKernels.map((rk) => resBlock1(net, h, ch, rk));
    const sum = branches.reduce((acc, b) => add(net, acc, b));
    h = branches.length === 1 ? sum : g.op('Mul', [sum, filled(net, 1 / branches.length, [])]);
  });
  h = conv1d(net, leakyRelu(net, h, FINAL_SLOPE), ch, 1, 7, { gain: OUTPUT_GAIN * leakyGain(FINAL_SLOPE) });
  const wave = g.op('Squeeze', [g.op('Tanh', [h]), ints(net, [1])]);
  g.output(wave, 'waveform', 'float32', ['B', 'L']);
  return finishNet(net, `Tessera shape vocoder (AudioLDM HiFi-GAN layout, ${size.initialChannels} channels, random weights)`);
}

/**
 * Mel frames of context each side that the waveform of a mel frame depends on: the halo for exact chunked vocoding.
 *
 * Interval back-propagation (research/rf.py) over the layers {@link buildVocoder} builds: conv_pre and conv_post read
 * ±3 at their rate; each ConvTranspose1d(k, u, p) output o reads inputs ⌈(o+p−k+1)/u⌉ … ⌊(o+p)/u⌋; each MRF is the
 * union of its ResBlock1 chains, each reading Σ_d ((k−1)·d + (k−1))/2 samples per side at its rate. Output samples
 * [160·f0, 160·(f0+n)) are traced back to mel frames. For AudioLDM's kernels [3, 7, 11] this is the analytic
 * bound 23 (research/longform.md §6; float64 experiments were already exact from 22).
 */
export function vocoderHaloMelFrames(size: VocoderSize): number {
  const layers: IntervalMap[] = [convSpan(7)];
  UPSAMPLE_RATES.forEach((u, i) => {
    const k = UPSAMPLE_KERNELS[i];
    layers.push(transposedConvSpan(k, u, (k - u) / 2));
    const chains = size.resblockKernels.map((rk) => RESBLOCK_DILATIONS.flatMap((d) => [convSpan(rk, d), convSpan(rk)]));
    layers.push(parallelSpan(chains));
  });
  layers.push(convSpan(7));
  const hop = UPSAMPLE_RATES.reduce((a, b) => a * b, 1);
  const [f0, n] = [1000, 10];
  const [lo, hi] = traceBack(layers, f0 * hop, (f0 + n) * hop - 1);
  return Math.max(f0 - lo, hi - (f0 + n - 1));
}
