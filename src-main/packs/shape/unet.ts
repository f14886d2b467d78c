/**
 * The shape pack's UNet: AudioLDM-S's `UNetModel` layout (research/audioldm.md §1, §3.2) with random weights.
 *
 * sample[N,8,T,16], timestep[N], class_labels[N,512] → noise_pred[N,8,T,16]. Structure, scaled by C0:
 * - time embedding: sinusoid (C0, [cos, sin]) → Linear(C0→4C0) → SiLU → Linear(4C0→4C0); text: Linear(512→4C0)
 *   ("simple_projection"); the two are concatenated (class_embeddings_concat) into an 8C0 embedding that every
 *   ResBlock projects (SiLU → Linear) and adds to its features after the first conv (FiLM-style global conditioning);
 * - ResBlocks GroupNorm(32) → SiLU → Conv3×3, + emb, GroupNorm → SiLU → Conv3×3, 1×1 skip when channels change;
 * - channel_mult [1,2,3,5]; three stride-2 Conv3×3 downsamplings (T and the 16 frequency bins halve: T % 8 == 0);
 * - SpatialTransformer blocks (GroupNorm → proj_in 1×1 → [LN → self-attn, LN → self-attn (attn2 without context),
 *   LN → GEGLU FF] → proj_out 1×1, residual) after every ResBlock of levels 1–3 and in the mid block. Attention runs
 *   over the flattened (time × frequency) tokens as in AudioLDM, heads = channels / 32 (num_head_channels 32);
 * - decoder path: ResBlocks on [features ‖ skip] (num_res_blocks + 1 per level), nearest ×2 + Conv3×3 upsampling;
 * - out: GroupNorm → SiLU → Conv3×3 to 8 channels.
 * At C0 = 128 with 2 res-blocks per level this is AudioLDM-S's 185.04 M parameters exactly (audioldm_count.py).
 */
import { alphasCumprod } from '../../engine/schedulers/noise-schedule.ts';
import type { Rng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { AUDIOLDM_SCHEDULER } from '../types.ts';
import {
  type BuiltGraph,
  type Net,
  RESIDUAL_GAIN,
  SILU_GAIN,
  add,
  attention,
  conv2d,
  createNet,
  finishNet,
  fromTokens,
  gelu,
  groupNorm,
  ints,
  layerNorm,
  linear,
  normGroups,
  silu,
  timestepEmbedding,
  toTokens,
  unsqueeze,
  upsampleNearest2x,
} from '../graph/nn.ts';

/** Sizes of the UNet (AudioLDM-S: model channels 128, 2 res-blocks per level). */
export interface UnetSize {
  /** model_channels C0. */
  modelChannels: number;
  /** num_res_blocks per level (the decoder path uses one more). */
  resBlocks: number;
}

/** AudioLDM-S's channel multipliers per level. */
export const UNET_CHANNEL_MULT = [1, 2, 3, 5] as const;
/** Levels (downsampling factor 2^level) that carry transformer blocks; the mid block always does. */
const ATTENTION_LEVELS = new Set([1, 2, 3]);
/** num_head_channels of AudioLDM-S. */
const HEAD_CHANNELS = 32;
/** Latent channels, frequency bins and CLAP embedding width of the audioldm contract. */
const LATENT_CHANNELS = 8;
const LATENT_BINS = 16;
const TEXT_DIM = 512;

interface Ctx {
  net: Net;
  /** SiLU(embedding), shared by every ResBlock's projection. */
  emb: string;
  embDim: number;
}

function resBlock(ctx: Ctx, x: string, cin: number, cout: number): string {
  const { net } = ctx;
  let h = conv2d(net, silu(net, groupNorm(net, x, cin, normGroups(cin), 1e-5)), cin, cout, 3, { gain: SILU_GAIN });
  const e = linear(net, ctx.emb, ctx.embDim, cout, { gain: SILU_GAIN * 0.5 });
  h = add(net, h, unsqueeze(net, e, [2, 3]));
  h = conv2d(net, silu(net, groupNorm(net, h, cout, normGroups(cout), 1e-5)), cout, cout, 3, { gain: RESIDUAL_GAIN * SILU_GAIN });
  const skip = cin === cout ? x : conv2d(net, x, cin, cout, 1);
  return add(net, skip, h);
}

function spatialTransformer(net: Net, x: string, c: number): string {
  const g = net.g;
  const heads = Math.max(1, Math.floor(c / HEAD_CHANNELS));
  let t = toTokens(net, conv2d(net, groupNorm(net, x, c, normGroups(c), 1e-6), c, c, 1));
  t = add(net, t, attention(net, layerNorm(net, t, c), c, heads));
  t = add(net, t, attention(net, layerNorm(net, t, c), c, heads));
  // GEGLU feed-forward: Linear(c→8c) split into value and gate halves, value · GELU(gate), Linear(4c→c).
  const [value, gate] = g.opN('Split', [linear(net, layerNorm(net, t, c), c, 8 * c), ints(net, [4 * c, 4 * c])], 2, {
    axis: -1,
  });
  t = add(net, t, linear(net, g.op('Mul', [value, gelu(net, gate)]), 4 * c, c, { gain: RESIDUAL_GAIN * 2 }));
  return add(net, x, conv2d(net, fromTokens(net, t, x), c, c, 1, { gain: RESIDUAL_GAIN * 2 }));
}

/** Options of {@link buildUnet}. */
export interface UnetOptions {
  /**
   * γ of a prior skip: noise_pred = √(1−ᾱ)·sample + γ·UNet(sample), the exact ε-predictor of unit-variance data plus
   * a small random residual that couples frames, which keeps DDIM bounded. Default `false`: the bare AudioLDM-S graph
   * (the parameter-count and parity builds); the shape-s pack turns it on ({@link SHAPE_PRIOR_GAMMA}, index.ts).
   */
  priorSkip?: number | false;
}

/**
 * The γ of shape-s's prior skip (see {@link UnetOptions.priorSkip}). Measured on the width-32 pack, guidance 2.5,
 * DDIM: latent peak 3.7 and 4.1 (10 s, 10 and 50 steps), 4.3 and 4.8 (20 s), where the bare graph reaches ≈ 200
 * and is clamped; the residual still makes 16–24 % of the final latent's variance (the part not proportional to x_T,
 * which the pointwise prior alone would return). γ = 0.15 gave 30–40 % but a peak of 5.3 (20 s, 50 steps), 0.2 gave
 * 5.6 on 10 s: too close to the |x| < 6 the tests hold it to.
 */
export const SHAPE_PRIOR_GAMMA = 0.1;

/** Builds `unet.onnx` for `size` with weights from `rng`. */
export function buildUnet(size: UnetSize, rng: Rng, options: UnetOptions = {}): BuiltGraph {
  const g = new GraphBuilder('shape_unet');
  const net = createNet(g, rng);
  const c0 = size.modelChannels;
  const e = 4 * c0;
  const sample = g.input('sample', 'float32', ['N', LATENT_CHANNELS, 'T', LATENT_BINS]);
  const timestep = g.input('timestep', 'float32', ['N']);
  const classLabels = g.input('class_labels', 'float32', ['N', TEXT_DIM]);

  const tEmb = linear(net, silu(net, linear(net, timestepEmbedding(net, timestep, c0), c0, e)), e, e, { gain: SILU_GAIN });
  // class_labels are L2-normalised (entries ~1/√512): unit-variance weights give an O(1) text embedding.
  const cEmb = linear(net, classLabels, TEXT_DIM, e, { gain: Math.sqrt(TEXT_DIM) });
  const ctx: Ctx = { net, emb: silu(net, g.op('Concat', [tEmb, cEmb], { axis: 1 })), embDim: 2 * e };

  let h = conv2d(net, sample, LATENT_CHANNELS, c0, 3);
  let ch = c0;
  const skips: { value: string; channels: number }[] = [{ value: h, channels: ch }];
  UNET_CHANNEL_MULT.forEach((mult, level) => {
    for (let i = 0; i < size.resBlocks; i++) {
      h = resBlock(ctx, h, ch, mult * c0);
      ch = mult * c0;
      if (ATTENTION_LEVELS.has(level)) h = spatialTransformer(net, h, ch);
      skips.push({ value: h, channels: ch });
    }
    if (level < UNET_CHANNEL_MULT.length - 1) {
      h = conv2d(net, h, ch, ch, 3, { stride: 2, padding: 1 });
      skips.push({ value: h, channels: ch });
    }
  });

  h = resBlock(ctx, h, ch, ch);
  h = spatialTransformer(net, h, ch);
  h = resBlock(ctx, h, ch, ch);

  for (let level = UNET_CHANNEL_MULT.length - 1; level >= 0; level--) {
    const cout = UNET_CHANNEL_MULT[level] * c0;
    for (let i = 0; i <= size.resBlocks; i++) {
      const skip = skips.pop();
      if (skip === undefined) throw new Error('unet: skip connections exhausted (internal error)');
      h = resBlock(ctx, g.op('Concat', [h, skip.value], { axis: 1 }), ch + skip.channels, cout);
      ch = cout;
      if (ATTENTION_LEVELS.has(level)) h = spatialTransformer(net, h, ch);
    }
    if (level > 0) h = conv2d(net, upsampleNearest2x(net, h), ch, ch, 3);
  }

  const out = conv2d(net, silu(net, groupNorm(net, h, ch, normGroups(ch), 1e-5)), ch, LATENT_CHANNELS, 3, { gain: SILU_GAIN });
  const gamma = options.priorSkip ?? false;
  g.output(gamma === false ? out : priorSkip(g, sample, timestep, out, gamma), 'noise_pred', 'float32', ['N', LATENT_CHANNELS, 'T', LATENT_BINS]);
  return finishNet(net, `Tessera shape UNet (AudioLDM-S layout, C0=${c0}, ${size.resBlocks} res-blocks/level, random weights)`);
}

/**
 * √(1−ᾱ)·sample + γ·residual, ᾱ looked up from the timestep (AudioLDM's schedule). √(1−ᾱ)·x is the exact
 * ε-predictor of unit-variance data, which DDIM walks without growing; the random UNet adds a time-coupling residual.
 * Constants, not parameters: the parameter count stays AudioLDM-S's.
 */
function priorSkip(g: GraphBuilder, sample: string, timestep: string, residual: string, gamma: number): string {
  const alphas = alphasCumprod(AUDIOLDM_SCHEDULER);
  const last = alphas.length - 1;
  const index = g.op('Cast', [g.op('Floor', [g.op('Clip', [g.op('Add', [timestep, g.scalar(0.5)]), g.scalar(0), g.scalar(last)])])], { to: 7 });
  const abar = g.op('Reshape', [g.op('Gather', [g.f32('alphas_cumprod', alphas, [alphas.length]), index], { axis: 0 }), g.i64('shape', [-1, 1, 1, 1])]);
  const prior = g.op('Mul', [g.op('Sqrt', [g.op('Sub', [g.scalar(1), abar])]), sample]);
  return g.op('Add', [prior, g.op('Mul', [residual, g.scalar(gamma)])]);
}
