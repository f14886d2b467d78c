/**
 * The shape pack's VAE decoder: AudioLDM's `AutoencoderKL.decode` layout (research/audioldm.md §1, §3.3) with random
 * weights.
 *
 * latent[B,8,T,16] → mel[B,1,4T,64]: × 1/scaling_factor (baked in) → post_quant_conv 1×1 → conv_in 3×3 → mid
 * (ResBlock, single-head global self-attention over all T·16 positions, ResBlock) → up path over ch_mult [1,2,4]
 * reversed, num_res_blocks + 1 ResBlocks per level, nearest ×2 + Conv3×3 after the two upper levels (×4 in time and
 * frequency) → GroupNorm(32, eps 1e-6) → SiLU → conv_out 3×3 to one channel. No downsampling, so any T ≥ 1 works.
 */
import type { Rng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import {
  type BuiltGraph,
  type IntervalMap,
  type Net,
  RESIDUAL_GAIN,
  SILU_GAIN,
  add,
  attention,
  conv2d,
  convSpan,
  createNet,
  filled,
  finishNet,
  fromTokens,
  groupNorm,
  nearestUpSpan,
  normGroups,
  silu,
  toTokens,
  traceBack,
  upsampleNearest2x,
} from '../graph/nn.ts';

/** Sizes of the VAE decoder (AudioLDM: ch 128, 2 res-blocks per level). */
export interface VaeDecoderSize {
  /** Base channels `ch`. */
  channels: number;
  /** num_res_blocks (each decoder level has one more). */
  resBlocks: number;
}

/** AudioLDM's VAE channel multipliers (the decoder walks them in reverse). */
export const VAE_CHANNEL_MULT = [1, 2, 4] as const;
/** `scaling_factor` of audioldm-s-full-v2 (research/audioldm.md §1), baked into the graph. */
export const VAE_SCALING_FACTOR = 0.9392935633659363;
const LATENT_CHANNELS = 8;
const LATENT_BINS = 16;
const EPS = 1e-6;

function norm(net: Net, x: string, c: number): string {
  return groupNorm(net, x, c, normGroups(c), EPS);
}

function resBlock(net: Net, x: string, cin: number, cout: number): string {
  let h = conv2d(net, silu(net, norm(net, x, cin)), cin, cout, 3, { gain: SILU_GAIN });
  h = conv2d(net, silu(net, norm(net, h, cout)), cout, cout, 3, { gain: RESIDUAL_GAIN * SILU_GAIN });
  return add(net, cin === cout ? x : conv2d(net, x, cin, cout, 1), h);
}

function attnBlock(net: Net, x: string, c: number): string {
  // AttnBlock: q/k/v/proj_out are 1×1 convs, i.e. Linear layers on the flattened positions.
  const tokens = toTokens(net, norm(net, x, c));
  return add(net, x, fromTokens(net, attention(net, tokens, c, 1, { qkvBias: true }), x));
}

/** Options of {@link buildVaeDecoder}. */
export interface VaeDecoderOptions {
  /**
   * Build the mid-block self-attention (default true, as AudioLDM). Without it only GroupNorm couples distant frames,
   * so GN-synchronised chunked decoding is exact (research/longform.md §5.2); the other weights are drawn differently.
   */
  attention?: boolean;
}

/** Builds `vae_decoder.onnx` for `size` with weights from `rng`. */
export function buildVaeDecoder(size: VaeDecoderSize, rng: Rng, options: VaeDecoderOptions = {}): BuiltGraph {
  const withAttention = options.attention ?? true;
  const g = new GraphBuilder('shape_vae_decoder');
  const net = createNet(g, rng);
  const latent = g.input('latent', 'float32', ['B', LATENT_CHANNELS, 'T', LATENT_BINS]);
  const z = g.op('Mul', [latent, filled(net, 1 / VAE_SCALING_FACTOR, [])]);
  let h = conv2d(net, z, LATENT_CHANNELS, LATENT_CHANNELS, 1);
  let ch = size.channels * VAE_CHANNEL_MULT[VAE_CHANNEL_MULT.length - 1];
  h = conv2d(net, h, LATENT_CHANNELS, ch, 3);
  h = resBlock(net, h, ch, ch);
  if (withAttention) h = attnBlock(net, h, ch);
  h = resBlock(net, h, ch, ch);
  for (let level = VAE_CHANNEL_MULT.length - 1; level >= 0; level--) {
    const cout = size.channels * VAE_CHANNEL_MULT[level];
    for (let i = 0; i <= size.resBlocks; i++) {
      h = resBlock(net, h, ch, cout);
      ch = cout;
    }
    if (level > 0) h = conv2d(net, upsampleNearest2x(net, h), ch, ch, 3);
  }
  const mel = conv2d(net, silu(net, norm(net, h, ch)), ch, 1, 3, { gain: SILU_GAIN });
  g.output(mel, 'mel', 'float32', ['B', 1, 'F', 4 * LATENT_BINS]);
  const variant = withAttention ? '' : ', no mid-block attention';
  return finishNet(net, `Tessera shape VAE decoder (AudioLDM layout, ch=${size.channels}, ${size.resBlocks} res-blocks${variant}, random weights)`);
}

/**
 * Latent frames of context each side that a decoded mel frame depends on through the convolutions (time axis).
 *
 * Traced by interval back-propagation over the same layer list {@link buildVaeDecoder} builds: every 3×3 conv reads
 * ±1 frame at its own resolution, nearest ×2 reads ⌊o/2⌋, 1×1 convs read nothing extra. GroupNorm and the mid-block
 * attention couple all frames globally and are not counted (research/longform.md §5.3: the full AudioLDM decoder
 * gives ±17; chunked VAE decoding crossfades to hide the remaining global mismatch).
 */
export function vaeDecoderHaloLatentFrames(size: VaeDecoderSize): number {
  const c3 = convSpan(3);
  const res = [c3, c3];
  const layers: IntervalMap[] = [c3, ...res, ...res];
  for (let level = VAE_CHANNEL_MULT.length - 1; level >= 0; level--) {
    for (let i = 0; i <= size.resBlocks; i++) layers.push(...res);
    if (level > 0) layers.push(nearestUpSpan(2), c3);
  }
  layers.push(c3);
  const up = 2 ** (VAE_CHANNEL_MULT.length - 1);
  const [z0, n] = [1000, 10];
  const [lo, hi] = traceBack(layers, z0 * up, (z0 + n) * up - 1);
  return Math.max(z0 - lo, hi - (z0 + n - 1));
}
