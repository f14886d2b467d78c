/**
 * The shape pack's VAE decoder: AudioLDM's `AutoencoderKL.decode` layout (research/audioldm.md §1, §3.3) with random
 * weights.
 *
 * latent[B,8,T,16] → mel[B,1,4T,64]: × 1/scaling_factor (baked in) → post_quant_conv 1×1 → conv_in 3×3 → mid
 * (ResBlock, single-head global self-attention over all T·16 positions, ResBlock) → up path over ch_mult [1,2,4]
 * reversed, num_res_blocks + 1 ResBlocks per level, nearest ×2 + Conv3×3 after the two upper levels (×4 in time and
 * frequency) → GroupNorm(32, eps 1e-6) → SiLU → conv_out 3×3 to one channel. No downsampling, so any T ≥ 1 works.
 * Layers carry AutoencoderKL's state-dict names, so {@link buildVaeDecoderBody} also builds a converted checkpoint's
 * decoder (packs/audioldm/vae-decoder.ts).
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
  upsampleNearest2xConv3x3,
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

/**
 * Everything that decides the decoder graph, so one builder serves shape-s (from {@link VaeDecoderSize}) and a
 * diffusers AutoencoderKL (packs/audioldm/vae-decoder.ts). Layers carry diffusers' state-dict names
 * (`post_quant_conv`, `decoder.…`), read when the net has a WeightSource.
 */
export interface VaeDecoderTopology {
  /** Channels per level, shallowest first (block_out_channels; the decoder walks them deepest first). */
  blockOutChannels: readonly number[];
  /** Res-blocks per encoder level (layers_per_block); each decoder level has one more. */
  layersPerBlock: number;
  /** GroupNorm groups for `channels` channels. */
  groups: (channels: number) => number;
  /** The mid block's single-head self-attention. */
  midAttention: boolean;
  /** post_quant_conv (1×1) before the decoder. */
  postQuantConv: boolean;
  latentChannels: number;
  outChannels: number;
  /** The latent is multiplied by 1/scalingFactor first (AudioLDM's decode_latents). */
  scalingFactor: number;
}

/** The shape pack's topology for `size` (AudioLDM's, GroupNorm32 where it divides). */
export function shapeVaeDecoderTopology(size: VaeDecoderSize, options: VaeDecoderOptions = {}): VaeDecoderTopology {
  return {
    blockOutChannels: VAE_CHANNEL_MULT.map((mult) => mult * size.channels),
    layersPerBlock: size.resBlocks,
    groups: normGroups,
    midAttention: options.attention ?? true,
    postQuantConv: true,
    latentChannels: LATENT_CHANNELS,
    outChannels: 1,
    scalingFactor: VAE_SCALING_FACTOR,
  };
}

function norm(net: Net, topo: VaeDecoderTopology, x: string, c: number, key: string): string {
  return groupNorm(net, x, c, topo.groups(c), EPS, 2, key);
}

/** ResnetBlock2D without time embedding (`key`: norm1, conv1, norm2, conv2, conv_shortcut). */
function resBlock(net: Net, topo: VaeDecoderTopology, x: string, cin: number, cout: number, key: string): string {
  let h = conv2d(net, silu(net, norm(net, topo, x, cin, `${key}.norm1`)), cin, cout, 3, { gain: SILU_GAIN, key: `${key}.conv1` });
  h = conv2d(net, silu(net, norm(net, topo, h, cout, `${key}.norm2`)), cout, cout, 3, { gain: RESIDUAL_GAIN * SILU_GAIN, key: `${key}.conv2` });
  return add(net, cin === cout ? x : conv2d(net, x, cin, cout, 1, { key: `${key}.conv_shortcut` }), h);
}

/** The mid block's Attention (`key`: group_norm, to_q/to_k/to_v/to_out.0 as Linear layers, one head). */
function attnBlock(net: Net, topo: VaeDecoderTopology, x: string, c: number, key: string): string {
  // AttnBlock: q/k/v/proj_out are 1×1 convs, i.e. Linear layers on the flattened positions.
  const tokens = toTokens(net, norm(net, topo, x, c, `${key}.group_norm`));
  const keys = { q: `${key}.to_q`, k: `${key}.to_k`, v: `${key}.to_v`, out: `${key}.to_out.0` };
  return add(net, x, fromTokens(net, attention(net, tokens, c, 1, { qkvBias: true, keys }), x));
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
  const net = createNet(new GraphBuilder('shape_vae_decoder'), rng);
  buildVaeDecoderBody(net, shapeVaeDecoderTopology(size, options));
  const variant = withAttention ? '' : ', no mid-block attention';
  return finishNet(net, `Tessera shape VAE decoder (AudioLDM layout, ch=${size.channels}, ${size.resBlocks} res-blocks${variant}, random weights)`);
}

/**
 * The decoder on `net`: latent [B, latentChannels, T, 16] → mel [B, outChannels, F, 16·2^(levels−1)] (AutoencoderKL's
 * decode of latent / scaling_factor), inputs and outputs declared. GroupNorms keep the Reshape → InstanceNormalization
 * → Reshape → Mul → Add export pattern that packs/graph/groupnorm-stats.ts rewrites.
 */
export function buildVaeDecoderBody(net: Net, topo: VaeDecoderTopology): void {
  const g = net.g;
  const chans = topo.blockOutChannels;
  const levels = chans.length;
  const latent = g.input('latent', 'float32', ['B', topo.latentChannels, 'T', LATENT_BINS]);
  let h = g.op('Mul', [latent, filled(net, 1 / topo.scalingFactor, [])]);
  if (topo.postQuantConv) h = conv2d(net, h, topo.latentChannels, topo.latentChannels, 1, { key: 'post_quant_conv' });
  let ch = chans[levels - 1];
  h = conv2d(net, h, topo.latentChannels, ch, 3, { key: 'decoder.conv_in' });
  h = resBlock(net, topo, h, ch, ch, 'decoder.mid_block.resnets.0');
  if (topo.midAttention) h = attnBlock(net, topo, h, ch, 'decoder.mid_block.attentions.0');
  h = resBlock(net, topo, h, ch, ch, 'decoder.mid_block.resnets.1');
  for (let level = levels - 1; level >= 0; level--) {
    const cout = chans[level];
    const key = `decoder.up_blocks.${levels - 1 - level}`;
    for (let i = 0; i <= topo.layersPerBlock; i++) {
      h = resBlock(net, topo, h, ch, cout, `${key}.resnets.${i}`);
      ch = cout;
    }
    // Nearest ×2 + Conv3×3 in its sub-pixel form (2.25× fewer FLOPs, the same function and parameters).
    if (level > 0) h = upsampleNearest2xConv3x3(net, h, ch, ch, { key: `${key}.upsamplers.0.conv` });
  }
  const normed = norm(net, topo, h, ch, 'decoder.conv_norm_out');
  const mel = conv2d(net, silu(net, normed), ch, topo.outChannels, 3, { gain: SILU_GAIN, key: 'decoder.conv_out' });
  g.output(mel, 'mel', 'float32', ['B', topo.outChannels, 'F', LATENT_BINS * 2 ** (levels - 1)]);
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
