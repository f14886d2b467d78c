/**
 * AudioLDM's diffusers UNet2DConditionModel as an ONNX graph with its checkpoint's weights, in the engine's unet
 * contract: sample [N, 8, T, 16], timestep float32 [N], class_labels [N, 512] (the L2-normalised CLAP embedding)
 * → noise_pred [N, 8, T, 16]. The topology is shape-s's (packs/shape/unet.ts), driven by `unet/config.json`.
 *
 * The attention-head split is the one choice the weights do not fix (README caveat 1): diffusers reads the
 * config's `attention_head_dim` as a number of heads, and the diffusers conversion script writes none, so a converted
 * cvssp checkpoint runs with 8 heads at every level where the original AudioLDM used channels / num_head_channels.
 * `heads: 'original'` (the default, as the exporter's `--heads original`) rebuilds the original split;
 * `heads: 'config'` reproduces what diffusers computes from the config.
 */
import { createRng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import onnxProto from 'onnx-proto';
import { convertModelToFloat16 } from '../graph/float16.ts';
import { type AttentionKernel, type BuiltGraph, type WeightSource, createNet, finishNet } from '../graph/nn.ts';
import { type UnetTopology, buildUnetBody, declareNoisePred } from '../shape/unet.ts';
import { AudioLdmConfigError, type UnetConfig } from './config-unet-vae.ts';

const { onnx } = onnxProto;

/**
 * Original `num_head_channels` by the UNet's first-level width: 32 for AudioLDM S (128) and M (192), 64 for L (256)
 * (tools/export-audioldm/audioldm_export/heads.py).
 */
export const HEAD_CHANNELS_BY_WIDTH: Readonly<Record<number, number>> = { 128: 32, 192: 32, 256: 64 };

/** Options of {@link buildAudioLdmUnet}. */
export interface AudioLdmUnetOptions {
  /**
   * 'original' (default): heads = channels / head channels per level, as the original AudioLDM UNet;
   * 'config': the config's `attention_head_dim` read as heads, as diffusers does (8 everywhere when it is absent).
   */
  heads?: 'config' | 'original';
  /** Channels per head for 'original'; default {@link HEAD_CHANNELS_BY_WIDTH} of block_out_channels[0]. */
  headChannels?: number;
  /**
   * A float16 UNet (weights and activations), with GroupNorm, LayerNorm, Softmax and the timestep embedding in
   * float32 and float32 inputs and outputs, as the exporter's `--fp16` (graph/float16.ts).
   */
  fp16?: boolean;
  /** How the transformer blocks compute attention (default graph/nn.ts's DEFAULT_ATTENTION_KERNEL). */
  attentionKernel?: AttentionKernel;
}

/** Heads per level for `options` (the level-0 entry is unused when level 0 has no attention, as in AudioLDM). */
export function unetHeads(config: UnetConfig, options: AudioLdmUnetOptions = {}): number[] {
  const chans = config.blockOutChannels;
  const usesAttention = (level: number): boolean => config.attentionLevels[level] || level === chans.length - 1;
  let heads: number[];
  if ((options.heads ?? 'original') === 'config') {
    heads = config.configHeads;
  } else {
    const headChannels = options.headChannels ?? HEAD_CHANNELS_BY_WIDTH[chans[0]];
    if (headChannels === undefined) {
      throw new AudioLdmConfigError(
        `unknown AudioLDM UNet width: block_out_channels[0] is ${chans[0]} (S/M/L have 128/192/256), so the original channels per head are unknown; ` +
          "give headChannels (the original num_head_channels), or heads: 'config' to use the config's attention_head_dim",
      );
    }
    heads = chans.map((c, level) => {
      if (usesAttention(level) && c % headChannels !== 0) {
        throw new AudioLdmConfigError(`UNet level ${level} has ${c} channels, not a multiple of ${headChannels} channels per head; give the original headChannels`);
      }
      return Math.max(1, Math.floor(c / headChannels));
    });
  }
  heads.forEach((h, level) => {
    if (usesAttention(level) && chans[level] % h !== 0) {
      throw new AudioLdmConfigError(
        `UNet level ${level}: ${chans[level]} channels cannot be split into ${h} attention heads (attention_head_dim [${config.configHeads.join(', ')}]); ` +
          "use heads: 'original' or fix attention_head_dim",
      );
    }
  });
  return heads;
}

/**
 * The sinusoid's frequencies as diffusers computes them in float32 (`Timesteps`, downscale_freq_shift 0):
 * exp(fl(fl(−ln 10⁴)·i) / half). Rounding each step as torch does keeps t·f within float32 round-off of diffusers'
 * product at t ≈ 1000, where a frequency one ulp off moves the phase by ~1e-5.
 */
export function diffusersTimestepFrequencies(dim: number): number[] {
  const half = dim / 2;
  const scale = Math.fround(-Math.log(10000));
  return Array.from({ length: half }, (_, i) => Math.fround(Math.exp(Math.fround(Math.fround(scale * i) / half))));
}

/** The graph topology `config` and `options` describe. */
export function audioLdmUnetTopology(config: UnetConfig, options: AudioLdmUnetOptions = {}): UnetTopology {
  return {
    blockOutChannels: config.blockOutChannels,
    attentionLevels: config.attentionLevels,
    layersPerBlock: config.layersPerBlock,
    heads: unetHeads(config, options),
    groups: () => config.normGroups,
    normEps: config.normEps,
    inChannels: config.inChannels,
    outChannels: config.outChannels,
    classDim: config.classEmbedInputDim,
    ...(options.attentionKernel === undefined ? {} : { attentionKernel: options.attentionKernel }),
  };
}

/** Builds `unet.onnx` from a diffusers UNet's config and state dict (`weights`, keys as diffusers names them). */
export function buildAudioLdmUnet(config: UnetConfig, weights: WeightSource, options: AudioLdmUnetOptions = {}): BuiltGraph {
  const topology = audioLdmUnetTopology(config, options);
  const g = new GraphBuilder('audioldm_unet');
  // The rng is never drawn from: every parameter comes from `weights`.
  const net = createNet(g, createRng(0), weights);
  const { noisePred } = buildUnetBody(net, topology, diffusersTimestepFrequencies(config.blockOutChannels[0]));
  declareNoisePred(net, noisePred, config.outChannels);
  const heads = topology.heads.filter((_, level) => config.attentionLevels[level]).join(', ');
  const doc = `AudioLDM UNet2DConditionModel (block_out_channels [${config.blockOutChannels.join(', ')}], heads [${heads}] (${options.heads ?? 'original'})${options.fp16 ? ', float16' : ''})`;
  if (!options.fp16) return finishNet(net, doc);
  // Halved before serialising: L's float32 UNet (2.96 GB) could not be serialised first.
  const model = g.toModel(doc);
  convertModelToFloat16(model);
  return { bytes: onnx.ModelProto.encode(model).finish(), parameters: net.parameters };
}
