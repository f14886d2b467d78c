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
 * - decoder path: ResBlocks on [features ‖ skip] (num_res_blocks + 1 per level), nearest ×2 + Conv3×3 upsampling
 *   (built in its sub-pixel form, graph/nn.ts);
 * - out: GroupNorm → SiLU → Conv3×3 to 8 channels.
 * At C0 = 128 with 2 res-blocks per level this is AudioLDM-S's 185.04 M parameters exactly (audioldm_count.py).
 * Attention is the plain-ONNX MatMul/Softmax chain; `attentionKernel: 'fused'` builds ONNX Runtime's MultiHeadAttention
 * instead (flash attention on its CPU provider, wrong on its WebGPU provider: graph/nn.ts AttentionKernel).
 * Every layer carries diffusers' UNet2DConditionModel state-dict name, so {@link buildUnetBody} also builds a converted
 * checkpoint's UNet (packs/audioldm/unet.ts); random-weight bytes do not depend on the names.
 */
import { alphasCumprod } from '../../engine/schedulers/noise-schedule.ts';
import type { Rng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { AUDIOLDM_SCHEDULER } from '../types.ts';
import {
  type AttentionKernel,
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
  upsampleNearest2xConv3x3,
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
/** eps of the transformers' own GroupNorm (diffusers' Transformer2DModel hard-codes it). */
const TRANSFORMER_GN_EPS = 1e-6;
/** eps of the transformer blocks' LayerNorms (BasicTransformerBlock's default; the UNet does not pass norm_eps). */
const TRANSFORMER_LN_EPS = 1e-5;

/**
 * Everything that decides the UNet graph, so one builder serves shape-s (from {@link UnetSize}) and a diffusers
 * UNet2DConditionModel (packs/audioldm/unet.ts). Layers carry diffusers' state-dict names, read when the net has a
 * WeightSource.
 */
export interface UnetTopology {
  /** Channels per level, shallowest first (diffusers' block_out_channels). */
  blockOutChannels: readonly number[];
  /** Whether each level carries transformer blocks (CrossAttn…Block2D); the mid block always does. */
  attentionLevels: readonly boolean[];
  /** Res-blocks per down level (layers_per_block); each up level has one more. */
  layersPerBlock: number;
  /** Attention heads per level; the mid block uses the last entry, the up path mirrors the down path. */
  heads: readonly number[];
  /** GroupNorm groups for `channels` channels (resnets, transformers and the output norm alike). */
  groups: (channels: number) => number;
  /** eps of the resnets' GroupNorms and the output norm (norm_eps). */
  normEps: number;
  inChannels: number;
  outChannels: number;
  /** Width of class_labels. */
  classDim: number;
  /** How the transformer blocks compute attention (graph/nn.ts; default its DEFAULT_ATTENTION_KERNEL). */
  attentionKernel?: AttentionKernel;
}

/** The shape pack's topology for `size`: AudioLDM-S's levels, heads of 32 channels, GroupNorm32 where it divides. */
export function shapeUnetTopology(size: UnetSize): UnetTopology {
  const blockOutChannels = UNET_CHANNEL_MULT.map((mult) => mult * size.modelChannels);
  return {
    blockOutChannels,
    attentionLevels: blockOutChannels.map((_, level) => ATTENTION_LEVELS.has(level)),
    layersPerBlock: size.resBlocks,
    heads: blockOutChannels.map((c) => Math.max(1, Math.floor(c / HEAD_CHANNELS))),
    groups: normGroups,
    normEps: 1e-5,
    inChannels: LATENT_CHANNELS,
    outChannels: LATENT_CHANNELS,
    classDim: TEXT_DIM,
  };
}

interface Ctx {
  net: Net;
  topo: UnetTopology;
  /** SiLU(embedding), shared by every ResBlock's projection. */
  emb: string;
  embDim: number;
}

/** ResnetBlock2D (`key`: norm1, conv1, time_emb_proj, norm2, conv2, conv_shortcut). */
function resBlock(ctx: Ctx, x: string, cin: number, cout: number, key: string): string {
  const { net, topo } = ctx;
  const eps = topo.normEps;
  let h = conv2d(net, silu(net, groupNorm(net, x, cin, topo.groups(cin), eps, 2, `${key}.norm1`)), cin, cout, 3, { gain: SILU_GAIN, key: `${key}.conv1` });
  const e = linear(net, ctx.emb, ctx.embDim, cout, { gain: SILU_GAIN * 0.5, key: `${key}.time_emb_proj` });
  h = add(net, h, unsqueeze(net, e, [2, 3]));
  h = conv2d(net, silu(net, groupNorm(net, h, cout, topo.groups(cout), eps, 2, `${key}.norm2`)), cout, cout, 3, {
    gain: RESIDUAL_GAIN * SILU_GAIN,
    key: `${key}.conv2`,
  });
  const skip = cin === cout ? x : conv2d(net, x, cin, cout, 1, { key: `${key}.conv_shortcut` });
  return add(net, skip, h);
}

/** diffusers' attention projections under `key` (attn1, attn2). */
function attentionKeys(key: string): { q: string; k: string; v: string; out: string } {
  return { q: `${key}.to_q`, k: `${key}.to_k`, v: `${key}.to_v`, out: `${key}.to_out.0` };
}

/** Transformer2DModel with one BasicTransformerBlock (`key`: norm, proj_in, transformer_blocks.0.…, proj_out). */
function spatialTransformer(ctx: Ctx, x: string, c: number, heads: number, key: string): string {
  const { net, topo } = ctx;
  const g = net.g;
  const block = `${key}.transformer_blocks.0`;
  const normed = groupNorm(net, x, c, topo.groups(c), TRANSFORMER_GN_EPS, 2, `${key}.norm`);
  const kernel = topo.attentionKernel === undefined ? {} : { kernel: topo.attentionKernel };
  let t = toTokens(net, conv2d(net, normed, c, c, 1, { key: `${key}.proj_in` }));
  t = add(net, t, attention(net, layerNorm(net, t, c, TRANSFORMER_LN_EPS, `${block}.norm1`), c, heads, { keys: attentionKeys(`${block}.attn1`), ...kernel }));
  // attn2 without encoder_hidden_states attends to its own (norm2) tokens: a second self-attention.
  t = add(net, t, attention(net, layerNorm(net, t, c, TRANSFORMER_LN_EPS, `${block}.norm2`), c, heads, { keys: attentionKeys(`${block}.attn2`), ...kernel }));
  // GEGLU feed-forward: Linear(c→8c) split into value and gate halves, value · GELU(gate), Linear(4c→c).
  const projected = linear(net, layerNorm(net, t, c, TRANSFORMER_LN_EPS, `${block}.norm3`), c, 8 * c, { key: `${block}.ff.net.0.proj` });
  const [value, gate] = g.opN('Split', [projected, ints(net, [4 * c, 4 * c])], 2, { axis: -1 });
  t = add(net, t, linear(net, g.op('Mul', [value, gelu(net, gate)]), 4 * c, c, { gain: RESIDUAL_GAIN * 2, key: `${block}.ff.net.2` }));
  return add(net, x, conv2d(net, fromTokens(net, t, x), c, c, 1, { gain: RESIDUAL_GAIN * 2, key: `${key}.proj_out` }));
}

/** Options of {@link buildUnet}. */
export interface UnetOptions {
  /**
   * γ of a prior skip: noise_pred = √(1−ᾱ)·sample + γ·UNet(sample), the exact ε-predictor of unit-variance data plus
   * a small random residual that couples frames, which keeps DDIM bounded. Default `false`: the bare AudioLDM-S graph
   * (the parameter-count and parity builds); the shape-s pack turns it on ({@link SHAPE_PRIOR_GAMMA}, index.ts).
   */
  priorSkip?: number | false;
  /** How the transformer blocks compute attention (default graph/nn.ts's DEFAULT_ATTENTION_KERNEL). */
  attentionKernel?: AttentionKernel;
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
  const topology = { ...shapeUnetTopology(size), ...(options.attentionKernel === undefined ? {} : { attentionKernel: options.attentionKernel }) };
  const { sample, timestep, noisePred } = buildUnetBody(net, topology);
  const gamma = options.priorSkip ?? false;
  declareNoisePred(net, gamma === false ? noisePred : priorSkip(g, sample, timestep, noisePred, gamma), LATENT_CHANNELS);
  return finishNet(net, `Tessera shape UNet (AudioLDM-S layout, C0=${size.modelChannels}, ${size.resBlocks} res-blocks/level, random weights)`);
}

/** Declares the graph output `noise_pred` [N, channels, T, 16]. */
export function declareNoisePred(net: Net, value: string, channels: number): void {
  net.g.output(value, 'noise_pred', 'float32', ['N', channels, 'T', LATENT_BINS]);
}

/**
 * The UNet on `net` (UNet2DConditionModel's forward with class_embed_type simple_projection, class_embeddings_concat,
 * encoder_hidden_states None): declares the inputs sample [N, in, T, 16], timestep [N], class_labels [N, classDim]
 * and returns the value names; the caller declares the output. `timeFreqs` overrides the sinusoid's frequencies.
 */
export function buildUnetBody(net: Net, topo: UnetTopology, timeFreqs?: readonly number[]): { sample: string; timestep: string; noisePred: string } {
  const g = net.g;
  const chans = topo.blockOutChannels;
  const levels = chans.length;
  if (topo.attentionLevels.length !== levels || topo.heads.length !== levels) {
    throw new Error(`unet: ${levels} levels but ${topo.attentionLevels.length} attention flags and ${topo.heads.length} head counts; give one per level`);
  }
  const c0 = chans[0];
  const e = 4 * c0;
  const sample = g.input('sample', 'float32', ['N', topo.inChannels, 'T', LATENT_BINS]);
  const timestep = g.input('timestep', 'float32', ['N']);
  const classLabels = g.input('class_labels', 'float32', ['N', topo.classDim]);

  const sinusoid = timeFreqs === undefined ? timestepEmbedding(net, timestep, c0) : sinusoidEmbedding(net, timestep, timeFreqs);
  const tHidden = silu(net, linear(net, sinusoid, c0, e, { key: 'time_embedding.linear_1' }));
  const tEmb = linear(net, tHidden, e, e, { gain: SILU_GAIN, key: 'time_embedding.linear_2' });
  // class_labels are L2-normalised (entries ~1/√512): unit-variance weights give an O(1) text embedding.
  const cEmb = linear(net, classLabels, topo.classDim, e, { gain: Math.sqrt(topo.classDim), key: 'class_embedding' });
  const ctx: Ctx = { net, topo, emb: silu(net, g.op('Concat', [tEmb, cEmb], { axis: 1 })), embDim: 2 * e };

  let h = conv2d(net, sample, topo.inChannels, c0, 3, { key: 'conv_in' });
  let ch = c0;
  const skips: { value: string; channels: number }[] = [{ value: h, channels: ch }];
  chans.forEach((cout, level) => {
    const key = `down_blocks.${level}`;
    for (let i = 0; i < topo.layersPerBlock; i++) {
      h = resBlock(ctx, h, ch, cout, `${key}.resnets.${i}`);
      ch = cout;
      if (topo.attentionLevels[level]) h = spatialTransformer(ctx, h, ch, topo.heads[level], `${key}.attentions.${i}`);
      skips.push({ value: h, channels: ch });
    }
    if (level < levels - 1) {
      h = conv2d(net, h, ch, ch, 3, { stride: 2, padding: 1, key: `${key}.downsamplers.0.conv` });
      skips.push({ value: h, channels: ch });
    }
  });

  h = resBlock(ctx, h, ch, ch, 'mid_block.resnets.0');
  h = spatialTransformer(ctx, h, ch, topo.heads[levels - 1], 'mid_block.attentions.0');
  h = resBlock(ctx, h, ch, ch, 'mid_block.resnets.1');

  for (let level = levels - 1; level >= 0; level--) {
    const cout = chans[level];
    const key = `up_blocks.${levels - 1 - level}`;
    for (let i = 0; i <= topo.layersPerBlock; i++) {
      const skip = skips.pop();
      if (skip === undefined) throw new Error('unet: skip connections exhausted (internal error)');
      h = resBlock(ctx, g.op('Concat', [h, skip.value], { axis: 1 }), ch + skip.channels, cout, `${key}.resnets.${i}`);
      ch = cout;
      if (topo.attentionLevels[level]) h = spatialTransformer(ctx, h, ch, topo.heads[level], `${key}.attentions.${i}`);
    }
    // Nearest ×2 + Conv3×3 in its sub-pixel form: the same function and parameters at ~0.5× the FLOPs (4 % of the
    // full-size UNet's), and no upsampled copy (issue 14: −3 % CPU time per call on both full-size UNets).
    if (level > 0) h = upsampleNearest2xConv3x3(net, h, ch, ch, { key: `${key}.upsamplers.0.conv` });
  }

  const normed = groupNorm(net, h, ch, topo.groups(ch), topo.normEps, 2, 'conv_norm_out');
  const noisePred = conv2d(net, silu(net, normed), ch, topo.outChannels, 3, { gain: SILU_GAIN, key: 'conv_out' });
  return { sample, timestep, noisePred };
}

/** [cos(t·f), sin(t·f)] for given frequencies f (flip_sin_to_cos), [N] → [N, 2·|f|]. */
function sinusoidEmbedding(net: Net, t: string, freqs: readonly number[]): string {
  const g = net.g;
  const args = g.op('Mul', [unsqueeze(net, t, [1]), g.f32('freqs', [...freqs], [freqs.length])]);
  return g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: 1 });
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
