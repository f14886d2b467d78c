/**
 * SpeechT5HifiGan (transformers `modeling_speecht5.py`), the vocoder of every AudioLDM, as an ONNX graph: from a
 * checkpoint ({@link WeightSource}, state-dict names as transformers has them) or with random weights (the shape
 * pack, shape/vocoder.ts, builds the same topology through {@link buildHifiGan}).
 *
 * mel[B, F, n_mels] → (normalize_before: (mel − mean)/scale) → transpose [B, n_mels, F] → conv_pre k7 → per stage i:
 * LeakyReLU(slope) → upsampler.i = ConvTranspose1d(k, u, padding ⌊(k−u)/2⌋) halving the channels → the mean of the
 * stage's resblocks (`resblocks.{i·K+j}`: per dilation d, LeakyReLU → convs1 (k, d) → LeakyReLU → convs2 (k, 1),
 * residual) → LeakyReLU(0.01, PyTorch's default, not the config's slope) → conv_post k7 → tanh → [B, L].
 * AudioLDM's config gives L = 160·F + 32. No normalisation layers, so the graph is shift-equivariant and chunkable.
 */
import { type Rng, createRng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import {
  type BuiltGraph,
  type IntervalMap,
  type Net,
  type WeightSource,
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
  param,
  parallelSpan,
  transpose,
  transposedConvSpan,
  traceBack,
  unsqueeze,
} from '../graph/nn.ts';
import type { HifiGanConfig } from './config-text-vocoder.ts';

/** Slope of the leaky ReLU before conv_post: transformers calls `leaky_relu` there without the config's slope. */
const FINAL_SLOPE = 0.01;
/** conv_pre and conv_post kernel (fixed in SpeechT5HifiGan). */
const OUTER_KERNEL = 7;

/** Options of {@link buildHifiGan}. */
export interface HifiGanOptions {
  /** Read every parameter from this checkpoint instead of drawing it from the rng. */
  weights?: WeightSource;
  /** Random init gain of conv_post (shape pack: keeps tanh out of saturation); ignored with `weights`. */
  outputGain?: number;
  /** Graph name (default `hifigan_vocoder`). */
  graphName?: string;
  /** The model's doc string. */
  docString?: string;
}

/** Padding of upsampler stage `i`, as transformers computes it: ⌊(k − u)/2⌋. */
function upsamplePadding(config: HifiGanConfig, i: number): number {
  return Math.floor((config.upsampleKernelSizes[i] - config.upsampleRates[i]) / 2);
}

function resBlock(net: Net, x: string, c: number, k: number, dilations: readonly number[], slope: number, key: string): string {
  let h = x;
  dilations.forEach((d, m) => {
    let t = conv1d(net, leakyRelu(net, h, slope), c, c, k, { dilation: d, gain: leakyGain(slope), key: `${key}.convs1.${m}`, row: true });
    t = conv1d(net, leakyRelu(net, t, slope), c, c, k, { gain: RESIDUAL_GAIN * 2 * leakyGain(slope), key: `${key}.convs2.${m}`, row: true });
    h = add(net, h, t);
  });
  return h;
}

/** Builds `vocoder.onnx` (mel [B, F, n_mels] → waveform [B, L]) for `config`, from `options.weights` or `rng`. */
export function buildHifiGan(config: HifiGanConfig, rng: Rng, options: HifiGanOptions = {}): BuiltGraph {
  const g = new GraphBuilder(options.graphName ?? 'hifigan_vocoder');
  const net = createNet(g, rng, options.weights);
  const slope = config.leakyReluSlope;
  const kernels = config.resblockKernelSizes;
  const mel = g.input('mel', 'float32', ['B', 'F', config.modelInDim]);
  let x = mel;
  if (config.normalizeBefore) {
    // `mean` and `scale` are buffers of the checkpoint; random builds get the identity (0 and 1).
    x = g.op('Sub', [x, param(net, 'mel_mean', [config.modelInDim], 0, 0, 'mean')]);
    x = g.op('Div', [x, param(net, 'mel_scale', [config.modelInDim], 0, 1, 'scale')]);
  }
  let ch = config.upsampleInitialChannel;
  // The signal is held as a one-row image [B, C, 1, L] from here on, so that every convolution is a 2-D one, which
  // ONNX Runtime's CPU provider runs with its blocked NCHWc kernels (Conv1dOptions.row; issue 14).
  const rows = unsqueeze(net, transpose(net, x, [0, 2, 1]), [2]);
  let h = conv1d(net, rows, config.modelInDim, ch, OUTER_KERNEL, { key: 'conv_pre', row: true });
  config.upsampleRates.forEach((u, i) => {
    const k = config.upsampleKernelSizes[i];
    h = convTranspose1d(net, leakyRelu(net, h, slope), ch, ch / 2, k, u, upsamplePadding(config, i), { gain: leakyGain(slope), key: `upsampler.${i}`, row: true });
    ch /= 2;
    const branches = kernels.map((rk, j) => resBlock(net, h, ch, rk, config.resblockDilationSizes[j], slope, `resblocks.${i * kernels.length + j}`));
    const sum = branches.reduce((acc, b) => add(net, acc, b));
    // PyTorch divides by the count; multiplying by its reciprocal differs by at most one rounding.
    h = branches.length === 1 ? sum : g.op('Mul', [sum, filled(net, 1 / branches.length, [])]);
  });
  h = conv1d(net, leakyRelu(net, h, FINAL_SLOPE), ch, 1, OUTER_KERNEL, { gain: (options.outputGain ?? 1) * leakyGain(FINAL_SLOPE), key: 'conv_post', row: true });
  const wave = g.op('Squeeze', [g.op('Tanh', [h]), ints(net, [1, 2])]);
  g.output(wave, 'waveform', 'float32', ['B', 'L']);
  return finishNet(net, options.docString ?? `SpeechT5HifiGan vocoder (${config.upsampleInitialChannel} channels)`);
}

/**
 * The converter's entry: `vocoder.onnx` from a checkpoint's `vocoder/` weights. With `stored` (does the checkpoint hold
 * this tensor name?), convolutions saved with weight norm are folded ({@link foldWeightNorm}).
 */
export function buildAudioLdmVocoder(config: HifiGanConfig, weights: WeightSource, stored?: (key: string) => boolean): BuiltGraph {
  // The rng is never drawn from: every parameter comes from `weights`.
  return buildHifiGan(config, createRng(0), { weights: stored ? foldWeightNorm(weights, stored) : weights, graphName: 'audioldm_vocoder' });
}

/** Waveform samples the vocoder makes from `frames` mel frames (AudioLDM: 160·F + 32). */
export function hifiGanOutputLength(config: HifiGanConfig, frames: number): number {
  let n = frames;
  config.upsampleRates.forEach((u, i) => {
    n = (n - 1) * u - 2 * upsamplePadding(config, i) + config.upsampleKernelSizes[i];
  });
  return n;
}

/**
 * Mel frames of context each side that the waveform of a mel frame depends on: the halo for exact chunked vocoding.
 *
 * Interval back-propagation over the layers {@link buildHifiGan} builds: conv_pre and conv_post read ±3 at their
 * rate; each ConvTranspose1d(k, u, p) output o reads inputs ⌈(o+p−k+1)/u⌉ … ⌊(o+p)/u⌋; each stage's resblocks are
 * the union of their chains. Output samples of 10 frames far from the ends are traced back to mel frames.
 */
export function hifiGanHaloMelFrames(config: HifiGanConfig): number {
  const layers: IntervalMap[] = [convSpan(OUTER_KERNEL)];
  config.upsampleRates.forEach((u, i) => {
    layers.push(transposedConvSpan(config.upsampleKernelSizes[i], u, upsamplePadding(config, i)));
    const chains = config.resblockKernelSizes.map((rk, j) => config.resblockDilationSizes[j].flatMap((d) => [convSpan(rk, d), convSpan(rk)]));
    layers.push(parallelSpan(chains));
  });
  layers.push(convSpan(OUTER_KERNEL));
  const hop = config.upsampleRates.reduce((a, b) => a * b, 1);
  const [f0, n] = [1000, 10];
  const [lo, hi] = traceBack(layers, f0 * hop, (f0 + n) * hop - 1);
  return Math.max(f0 - lo, hi - (f0 + n - 1));
}

/** Names under which checkpoints store a weight-normalised `X.weight`: [magnitude g, direction v]. */
const WEIGHT_NORM_PAIRS = [
  ['weight_g', 'weight_v'], // torch.nn.utils.weight_norm
  ['parametrizations.weight.original0', 'parametrizations.weight.original1'], // torch.nn.utils.parametrizations
] as const;

/**
 * A source that serves `X.weight` from a weight-normalised pair when the checkpoint stores one instead (HiFi-GAN
 * checkpoints saved with weight norm applied): w = g · v / ‖v‖, the norm over every axis but the first (PyTorch's
 * default dim 0: output channels of a Conv1d, input channels of a ConvTranspose1d). `stored` says whether the
 * checkpoint holds a tensor name; plain weights are passed through untouched.
 */
export function foldWeightNorm(source: WeightSource, stored: (key: string) => boolean): WeightSource {
  return {
    tensor(key, dims, options) {
      const suffix = '.weight';
      if (!key.endsWith(suffix) || stored(key)) return source.tensor(key, dims, options);
      const base = key.slice(0, -suffix.length);
      const pair = WEIGHT_NORM_PAIRS.map(([gName, vName]) => [`${base}.${gName}`, `${base}.${vName}`] as const).find(
        ([gKey, vKey]) => stored(gKey) && stored(vKey),
      );
      // Neither form is there: let the source report the missing tensor by the name the layer asked for.
      if (!pair) return source.tensor(key, dims, options);
      if (options?.transpose) throw new Error(`'${key}': weight-norm folding is implemented for convolutions only, not for a transposed Linear weight`);
      const direction = source.tensor(pair[1], dims);
      const rows = dims[0];
      const magnitude = source.tensor(pair[0], [rows, ...dims.slice(1).map(() => 1)]);
      const per = direction.length / rows;
      const folded = new Float32Array(direction.length);
      for (let r = 0; r < rows; r++) {
        let sq = 0;
        for (let i = r * per; i < (r + 1) * per; i++) sq += direction[i] * direction[i];
        const scale = magnitude[r] / Math.sqrt(sq);
        for (let i = r * per; i < (r + 1) * per; i++) folded[i] = direction[i] * scale;
      }
      return folded;
    },
  };
}
