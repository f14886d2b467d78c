/**
 * AudioLDM's diffusers AutoencoderKL decoder as an ONNX graph with its checkpoint's weights, in the engine's
 * vaeDecoder contract: latent [B, 8, T, 16] (scaled, as the denoising loop holds it) → mel [B, 1, 4T, 64]. The latent
 * is divided by `scaling_factor` inside the graph (pipeline decode_latents), then post_quant_conv and the decoder
 * (README caveat 6). The topology is shape-s's (packs/shape/vae-decoder.ts), driven by `vae/config.json`; its
 * GroupNorms (eps 1e-6) keep the export pattern packs/graph/groupnorm-stats.ts rewrites, so shared and estimated
 * decoding work on converted packs.
 */
import { createRng } from '../../engine/tensor/rng.ts';
import { GraphBuilder } from '../graph/builder.ts';
import { type BuiltGraph, type WeightSource, createNet, finishNet } from '../graph/nn.ts';
import { type VaeDecoderTopology, buildVaeDecoderBody } from '../shape/vae-decoder.ts';
import type { VaeConfig } from './config-unet-vae.ts';

/** The decoder topology `config` describes. */
export function audioLdmVaeDecoderTopology(config: VaeConfig): VaeDecoderTopology {
  return {
    blockOutChannels: config.blockOutChannels,
    layersPerBlock: config.layersPerBlock,
    groups: () => config.normGroups,
    midAttention: config.midBlockAttention,
    postQuantConv: config.postQuantConv,
    latentChannels: config.latentChannels,
    outChannels: config.outChannels,
    scalingFactor: config.scalingFactor,
  };
}

/** Builds `vae_decoder.onnx` from a diffusers AutoencoderKL's config and state dict (`weights`, diffusers' keys). */
export function buildAudioLdmVaeDecoder(config: VaeConfig, weights: WeightSource): BuiltGraph {
  // The rng is never drawn from: every parameter comes from `weights`.
  const net = createNet(new GraphBuilder('audioldm_vae_decoder'), createRng(0), weights);
  buildVaeDecoderBody(net, audioLdmVaeDecoderTopology(config));
  return finishNet(net, `AudioLDM AutoencoderKL decoder (block_out_channels [${config.blockOutChannels.join(', ')}], scaling_factor ${config.scalingFactor})`);
}
