/**
 * AudioLDM's UNet and VAE decoder built from diffusers weights (packs/audioldm/unet.ts, vae-decoder.ts) reproduce
 * diffusers 0.33.1 on the audioldm-tiny fixture (tests/fixtures/audioldm-tiny/README.md, a copy of ../shared/fixtures §3, tolerances §4:
 * relative RMS ≤ 1e-5 and max|Δ| ≤ 1e-4·max|ref|), read the head split as configured (caveat 1), say which tensor is
 * missing or mis-shaped, and keep the decoder rewritable for shared-statistics decoding.
 *
 * The fixture's weights are read with host/models/checkpoint's reader and served by the converter's WeightSource
 * (host/models/convert/weights.ts), as a conversion does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TensorSpec } from '../../src-main/contract/manifest.ts';
import { openSession } from '../../src-main/engine/runtime/session.ts';
import { type Tensor, f32, i64 } from '../../src-main/engine/tensor/tensor.ts';
import { AudioLdmConfigError, type UnetConfig, parseUnetConfig, parseVaeConfig } from '../../src-main/packs/audioldm/config-unet-vae.ts';
import { buildAudioLdmUnet, diffusersTimestepFrequencies, unetHeads } from '../../src-main/packs/audioldm/unet.ts';
import { buildAudioLdmVaeDecoder } from '../../src-main/packs/audioldm/vae-decoder.ts';
import { rewriteGroupNormForSharedStats, sharedStatsSignature } from '../../src-main/packs/graph/groupnorm-stats.ts';
import { AUDIOLDM_TINY, compare, expectGolden, fixtureConfig as config, mapSource, readCheckpointTensors, type StoredTensor } from '../helpers/audioldm-fixture.ts';

const FIXTURE = AUDIOLDM_TINY;

/** The converter's WeightSource over a component's tensors, named as diffusers stores them. */
const weightsOf = (tensors: ReadonlyMap<string, StoredTensor>, component: string) => mapSource(tensors, component, `${component}/diffusion_pytorch_model.safetensors`);

function golden(name: string): Float32Array {
  const bytes = readFileSync(join(FIXTURE, 'golden', `${name}.bin`));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function weights(component: string): Promise<Map<string, StoredTensor>> {
  return readCheckpointTensors(join(FIXTURE, 'model', component, 'diffusion_pytorch_model.safetensors'));
}

const UNET_WEIGHTS = await weights('unet');
const VAE_WEIGHTS = await weights('vae');

function asF32(t: Tensor | undefined): Float32Array {
  if (!(t?.data instanceof Float32Array)) throw new Error('expected a float32 output');
  return t.data;
}

const UNET_SIGNATURE: { inputs: TensorSpec[]; outputs: TensorSpec[] } = {
  inputs: [
    { name: 'sample', type: 'float32', dims: ['N', 8, 'T', 16] },
    { name: 'timestep', type: 'float32', dims: ['N'] },
    { name: 'class_labels', type: 'float32', dims: ['N', 512] },
  ],
  outputs: [{ name: 'noise_pred', type: 'float32', dims: ['N', 8, 'T', 16] }],
};
const VAE_SIGNATURE: { inputs: TensorSpec[]; outputs: TensorSpec[] } = {
  inputs: [{ name: 'latent', type: 'float32', dims: ['B', 8, 'T', 16] }],
  outputs: [{ name: 'mel', type: 'float32', dims: ['B', 1, 'F', 64] }],
};

/** noise_pred of the golden inputs (unet_sample, timestep 501, class_labels = text_embeds rows). */
async function runUnet(bytes: Uint8Array): Promise<Float32Array> {
  const session = await openSession(bytes, { name: 'unet', device: 'cpu', intraOpThreads: 1, expected: UNET_SIGNATURE });
  try {
    const out = await session.run({
      sample: f32(golden('unet_sample'), [2, 8, 64, 16]),
      timestep: f32(Float32Array.of(501, 501), [2]),
      class_labels: f32(golden('text_embeds'), [2, 512]),
    });
    return asF32(out.noise_pred);
  } finally {
    await session.dispose();
  }
}

describe('AudioLDM UNet from diffusers weights', () => {
  const unetConfig = parseUnetConfig(config('unet'));
  const unetWeights = UNET_WEIGHTS;

  it('reproduces diffusers noise_pred on the fixture and reads every tensor', async () => {
    const source = weightsOf(unetWeights, 'unet');
    const built = buildAudioLdmUnet(unetConfig, source, { heads: 'config' });
    expect(built.parameters).toBe(752_312);
    expect(source.unused()).toEqual([]);
    expectGolden(await runUnet(built.bytes), golden('unet_noise_pred'), 'unet_noise_pred');
  });

  it("reads attention_head_dim as heads; 'original' with 4 channels per head is the same split here", () => {
    expect(unetConfig.configHeads).toEqual([2, 4, 6, 10]);
    expect(unetHeads(unetConfig, { heads: 'config' })).toEqual([2, 4, 6, 10]);
    expect(unetHeads(unetConfig, { heads: 'original', headChannels: 4 })).toEqual([2, 4, 6, 10]);
    // S's width: the original split of 32 channels per head, whatever the config says.
    const s: UnetConfig = { ...unetConfig, blockOutChannels: [128, 256, 384, 640], configHeads: [8, 8, 8, 8] };
    expect(unetHeads(s)).toEqual([4, 8, 12, 20]);
    expect(unetHeads(s, { heads: 'config' })).toEqual([8, 8, 8, 8]);
    expect(() => unetHeads(unetConfig)).toThrow(/block_out_channels\[0\] is 8.*headChannels/);
    expect(() => unetHeads({ ...unetConfig, configHeads: [3, 3, 3, 3] }, { heads: 'config' })).toThrow(/16 channels cannot be split into 3 attention heads/);
  });

  it('differs by more than 1 % when the heads are read wrongly (8 at every level)', async () => {
    const wrong = buildAudioLdmUnet({ ...unetConfig, configHeads: [8, 8, 8, 8] }, weightsOf(unetWeights, 'unet'), { heads: 'config' });
    const { relRms } = compare(await runUnet(wrong.bytes), golden('unet_noise_pred'));
    console.log(`8 heads everywhere: relative RMS ${relRms.toExponential(2)}`);
    expect(relRms).toBeGreaterThan(0.01);
  });

  it('computes the sinusoid frequencies as torch does in float32', () => {
    const freqs = diffusersTimestepFrequencies(8);
    expect(freqs).toHaveLength(4);
    expect(freqs[0]).toBe(1);
    freqs.forEach((f, i) => expect(f).toBeCloseTo(10000 ** (-i / 4), 6));
  });

  it('names the tensor, the expected and the actual shape when one is missing or mis-shaped', () => {
    const key = 'down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight';
    const missing = new Map(unetWeights);
    missing.delete(key);
    expect(() => buildAudioLdmUnet(unetConfig, weightsOf(missing, 'unet'), { heads: 'config' })).toThrow(
      `checkpoint unet/diffusion_pytorch_model.safetensors has no tensor '${key}' that unet needs (expected [16, 16])`,
    );
    const misShaped = new Map(unetWeights);
    misShaped.set('conv_in.weight', { shape: [8, 4, 3, 3], data: new Float32Array(288) });
    expect(() => buildAudioLdmUnet(unetConfig, weightsOf(misShaped, 'unet'), { heads: 'config' })).toThrow(
      "tensor 'conv_in.weight' has shape [8, 4, 3, 3] but unet needs [8, 8, 3, 3]",
    );
  });

  it('refuses configs of another topology, naming the field', () => {
    const base = config('unet') as Record<string, unknown>;
    expect(() => parseUnetConfig({ ...base, use_linear_projection: true })).toThrow(AudioLdmConfigError);
    expect(() => parseUnetConfig({ ...base, use_linear_projection: true })).toThrow(/use_linear_projection/);
    expect(() => parseUnetConfig({ ...base, class_embed_type: 'timestep' })).toThrow(/class_embed_type/);
    expect(() => parseUnetConfig({ ...base, cross_attention_dim: 768 })).toThrow(/cross_attention_dim\[1\] is 768 but level 1 has 16 channels/);
    expect(() => parseUnetConfig({ ...base, attention_head_dim: [2, 4] })).toThrow(/attention_head_dim has 2 entries/);
    const { attention_head_dim: _omitted, ...noHeads } = base;
    expect(parseUnetConfig(noHeads).configHeads).toEqual([8, 8, 8, 8]);
  });
});

describe('AudioLDM VAE decoder from diffusers weights', () => {
  const vaeConfig = parseVaeConfig(config('vae'));
  const vaeWeights = VAE_WEIGHTS;

  it('reproduces diffusers decode_latents on the fixture, and so does its shared-statistics rewrite with own_stats = 1', async () => {
    const source = weightsOf(vaeWeights, 'vae');
    const built = buildAudioLdmVaeDecoder(vaeConfig, source);
    // Every decoder tensor is read; the encoder and quant_conv are not part of decoding.
    expect(source.unused().filter((k) => !k.startsWith('encoder.') && !k.startsWith('quant_conv.'))).toEqual([]);
    const latent = f32(golden('vae_latent'), [1, 8, 64, 16]);
    const reference = golden('vae_mel');

    const session = await openSession(built.bytes, { name: 'vae', device: 'cpu', intraOpThreads: 1, expected: VAE_SIGNATURE });
    try {
      expectGolden(asF32((await session.run({ latent })).mel), reference, 'vae_mel');
    } finally {
      await session.dispose();
    }

    const { bytes, layers } = rewriteGroupNormForSharedStats(built.bytes);
    // Every GroupNorm: 2 per resnet (2 mid + 3·3 up), the mid attention's and conv_norm_out.
    expect(layers.length).toBe(2 * (2 + 3 * 3) + 2);
    expect(layers.every((l) => l.groups === 4 && Math.abs(l.eps - 1e-6) < 1e-12)).toBe(true);
    const shared = await openSession(bytes, { name: 'vae-shared', device: 'cpu', intraOpThreads: 1, expected: sharedStatsSignature(VAE_SIGNATURE, layers) });
    try {
      const feeds: Record<string, Tensor> = {
        latent,
        core_start: i64([0], [1]),
        core_end: i64([64], [1]),
        own_stats: f32(Float32Array.of(1), [1]),
      };
      // Statistics far from the real ones: with own_stats = 1 they must not matter.
      for (const l of layers) {
        feeds[l.meanInput] = f32(new Float32Array(l.groups).fill(3), [l.groups]);
        feeds[l.varInput] = f32(new Float32Array(l.groups).fill(5), [l.groups]);
      }
      expectGolden(asF32((await shared.run(feeds)).mel), reference, 'vae_mel (rewritten, own_stats = 1)');
    } finally {
      await shared.dispose();
    }
  });

  it('names the tensor, the expected and the actual shape when one is missing or mis-shaped', () => {
    const missing = new Map(vaeWeights);
    missing.delete('decoder.mid_block.attentions.0.to_q.bias');
    expect(() => buildAudioLdmVaeDecoder(vaeConfig, weightsOf(missing, 'vae'))).toThrow("has no tensor 'decoder.mid_block.attentions.0.to_q.bias' that vae needs (expected [32])");
    const misShaped = new Map(vaeWeights);
    misShaped.set('post_quant_conv.weight', { shape: [4, 8, 1, 1], data: new Float32Array(32) });
    expect(() => buildAudioLdmVaeDecoder(vaeConfig, weightsOf(misShaped, 'vae'))).toThrow(
      "tensor 'post_quant_conv.weight' has shape [4, 8, 1, 1] but vae needs [8, 8, 1, 1]",
    );
  });

  it('refuses configs of another topology, naming the field', () => {
    const base = config('vae') as Record<string, unknown>;
    expect(() => parseVaeConfig({ ...base, up_block_types: ['UpDecoderBlock2D'] })).toThrow(/up_block_types has 1 entries but block_out_channels has 3/);
    expect(() => parseVaeConfig({ ...base, scaling_factor: 0 })).toThrow(/scaling_factor/);
    expect(() => parseVaeConfig({ ...base, norm_num_groups: 3 })).toThrow(/entry 8 is not divisible by norm_num_groups 3/);
  });
});
