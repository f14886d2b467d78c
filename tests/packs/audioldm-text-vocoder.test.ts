/**
 * CLAP's text tower and SpeechT5HifiGan built from transformers weights (packs/audioldm/text-encoder.ts, vocoder.ts)
 * reproduce the audioldm-tiny fixture (tests/fixtures/audioldm-tiny/README.md, a copy of ../shared/fixtures §3, tolerances §4: relative RMS
 * ≤ 1e-5 and max|Δ| ≤ 1e-4·max|ref|), fold weight-normalised convolutions, read their configs with errors that name
 * the field, and say which tensor is missing or mis-shaped.
 *
 * The fixture's weights are read with host/models/checkpoint's reader (float tensors only: the graphs do not read the
 * I64 position/token-type buffers) and served by the converter's WeightSource (host/models/convert/weights.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TensorSpec } from '../../src-main/contract/manifest.ts';
import { openSession } from '../../src-main/engine/runtime/session.ts';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { type Tensor, f32 } from '../../src-main/engine/tensor/tensor.ts';
import { type ClapTextConfig, type HifiGanConfig, parseClapTextConfig, parseHifiGanConfig } from '../../src-main/packs/audioldm/config-text-vocoder.ts';
import { AudioLdmConfigError } from '../../src-main/packs/audioldm/config-unet-vae.ts';
import { buildAudioLdmTextEncoder, buildClapTextEncoder } from '../../src-main/packs/audioldm/text-encoder.ts';
import { buildAudioLdmVocoder, foldWeightNorm, hifiGanHaloMelFrames, hifiGanOutputLength } from '../../src-main/packs/audioldm/vocoder.ts';
import { AUDIOLDM_TINY, expectGolden, fixtureConfig as config, mapSource, readCheckpointTensors, type StoredTensor } from '../helpers/audioldm-fixture.ts';

const FIXTURE = AUDIOLDM_TINY;

function goldenF32(name: string): Float32Array {
  const bytes = readFileSync(join(FIXTURE, 'golden', `${name}.bin`));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** A golden int32 array (ids, masks) as the int64 tensor the text encoder takes. */
function goldenIds(name: string, dims: number[]): Tensor<'int64'> {
  const bytes = readFileSync(join(FIXTURE, 'golden', `${name}.bin`));
  const ints = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { type: 'int64', data: BigInt64Array.from(ints, (x) => BigInt(x)), dims };
}

function weights(component: string): Promise<Map<string, StoredTensor>> {
  return readCheckpointTensors(join(FIXTURE, 'model', component, 'model.safetensors'));
}

const TEXT_WEIGHTS = await weights('text_encoder');
const VOCODER_WEIGHTS = await weights('vocoder');

async function run(bytes: Uint8Array, inputs: TensorSpec[], outputs: TensorSpec[], feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const session = await openSession(bytes, { name: 'test', device: 'cpu', intraOpThreads: 1, expected: { inputs, outputs } });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(outputs.map((o) => [o.name, out[o.name].data as Float32Array]));
  } finally {
    await session.dispose();
  }
}

const TEXT_INPUTS: TensorSpec[] = [
  { name: 'input_ids', type: 'int64', dims: ['B', 'S'] },
  { name: 'attention_mask', type: 'int64', dims: ['B', 'S'] },
];
const TEXT_OUTPUTS: TensorSpec[] = [
  { name: 'text_embeds', type: 'float32', dims: ['B', 512] },
  { name: 'text_embeds_raw', type: 'float32', dims: ['B', 512] },
];
const VOCODER_INPUTS: TensorSpec[] = [{ name: 'mel', type: 'float32', dims: ['B', 'F', 64] }];
const VOCODER_OUTPUTS: TensorSpec[] = [{ name: 'waveform', type: 'float32', dims: ['B', 'L'] }];

describe('CLAP text tower from transformers weights', () => {
  const textConfig: ClapTextConfig = parseClapTextConfig(config('text_encoder'));
  const textWeights = TEXT_WEIGHTS;

  it('reads text_encoder/config.json', () => {
    expect(textConfig).toEqual({
      vocabSize: 294,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 2,
      intermediateSize: 64,
      maxPositionEmbeddings: 514,
      typeVocabSize: 1,
      layerNormEps: 1e-5,
      projectionDim: 512,
      padTokenId: 1,
    });
  });

  it('reproduces text_embeds (prompt and "") and their unnormalised projection, reading every float tensor', async () => {
    const source = mapSource(textWeights, 'text_encoder');
    const built = buildAudioLdmTextEncoder(textConfig, source, { rawOutput: true });
    expect(source.unused()).toEqual([]);
    expect(built.parameters).toBe(323_648); // README §2 (parameters, not the int64 buffers)
    const out = await run(built.bytes, TEXT_INPUTS, TEXT_OUTPUTS, {
      input_ids: goldenIds('token_ids', [2, 512]),
      attention_mask: goldenIds('attention_mask', [2, 512]),
    });
    expectGolden(out.text_embeds_raw, goldenF32('text_embeds_raw'), 'text_embeds_raw');
    expectGolden(out.text_embeds, goldenF32('text_embeds'), 'text_embeds');
  });

  it('reproduces the negative prompt row ("static"), and the contract graph has text_embeds alone', async () => {
    const built = buildAudioLdmTextEncoder(textConfig, mapSource(textWeights, 'text_encoder'));
    const out = await run(built.bytes, TEXT_INPUTS, TEXT_OUTPUTS.slice(0, 1), {
      input_ids: goldenIds('token_ids_negative', [1, 512]),
      attention_mask: goldenIds('attention_mask_negative', [1, 512]),
    });
    expectGolden(out.text_embeds, goldenF32('text_embeds_negative'), 'text_embeds_negative');
  });

  it('names a missing tensor, and a mis-shaped one with its expected and actual shape', () => {
    const missing = new Map(textWeights);
    missing.delete('text_model.pooler.dense.weight');
    expect(() => buildAudioLdmTextEncoder(textConfig, mapSource(missing, 'text_encoder'))).toThrow(
      "checkpoint text_encoder/model.safetensors has no tensor 'text_model.pooler.dense.weight' that text_encoder needs (expected [32, 32])",
    );
    // A config that disagrees with the weights: the first tensor of the other size is named, stored layout [out, in].
    const wider = { ...textConfig, intermediateSize: 48 };
    expect(() => buildAudioLdmTextEncoder(wider, mapSource(textWeights, 'text_encoder'))).toThrow(
      "tensor 'text_model.encoder.layer.0.intermediate.dense.weight' has shape [64, 32] but text_encoder needs [48, 32]",
    );
  });

  it('builds the same topology with random weights: unit-norm embeddings that tell prompts apart', async () => {
    const built = buildClapTextEncoder(textConfig, createRng(3));
    const out = await run(built.bytes, TEXT_INPUTS, TEXT_OUTPUTS.slice(0, 1), {
      input_ids: goldenIds('token_ids', [2, 512]),
      attention_mask: goldenIds('attention_mask', [2, 512]),
    });
    const rows = [out.text_embeds.subarray(0, 512), out.text_embeds.subarray(512)];
    for (const row of rows) expect(Math.hypot(...row)).toBeCloseTo(1, 5);
    expect(rows[0].reduce((sum, x, i) => sum + x * rows[1][i], 0)).toBeLessThan(0.999);
  });

  it('refuses configs it cannot build, naming the field', () => {
    const base = config('text_encoder') as Record<string, unknown>;
    expect(() => parseClapTextConfig({ ...base, hidden_act: 'gelu_new' })).toThrow(AudioLdmConfigError);
    expect(() => parseClapTextConfig({ ...base, hidden_act: 'gelu_new' })).toThrow(/field 'hidden_act' must be 'gelu'.*found "gelu_new"/);
    expect(() => parseClapTextConfig({ ...base, hidden_size: '32' })).toThrow(/field 'hidden_size'/);
    expect(() => parseClapTextConfig({ ...base, num_attention_heads: 3 })).toThrow(/hidden_size 32 is not divisible by num_attention_heads 3/);
  });
});

describe('SpeechT5HifiGan from transformers weights', () => {
  const vocoderConfig: HifiGanConfig = parseHifiGanConfig(config('vocoder'));
  const vocoderWeights = VOCODER_WEIGHTS;
  const mel = goldenF32('vae_mel'); // [1, 1, 256, 64]: the pipeline squeezes the channel axis

  it('reads vocoder/config.json and derives length and halo', () => {
    expect(vocoderConfig).toEqual({
      modelInDim: 64,
      samplingRate: 16000,
      upsampleInitialChannel: 32,
      upsampleRates: [5, 4, 2, 2, 2],
      upsampleKernelSizes: [16, 16, 8, 4, 4],
      resblockKernelSizes: [3, 7, 11],
      resblockDilationSizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
      leakyReluSlope: 0.1,
      normalizeBefore: false,
    });
    expect(hifiGanOutputLength(vocoderConfig, 256)).toBe(160 * 256 + 32);
    expect(hifiGanHaloMelFrames(vocoderConfig)).toBe(23);
  });

  it('reproduces vocoder_waveform from vae_mel, reading every tensor but the unused mean/scale', async () => {
    const source = mapSource(vocoderWeights, 'vocoder');
    const built = buildAudioLdmVocoder(vocoderConfig, source, (k) => vocoderWeights.has(k));
    expect(source.unused()).toEqual(['mean', 'scale']); // normalize_before false
    expect(built.parameters).toBe(68_467); // README §2 (parameters, not the mean/scale buffers)
    const out = await run(built.bytes, VOCODER_INPUTS, VOCODER_OUTPUTS, { mel: f32(mel, [1, 256, 64]) });
    expectGolden(out.waveform, goldenF32('vocoder_waveform'), 'vocoder_waveform');
  });

  it('applies normalize_before with the stored mean and scale', async () => {
    // With mean m and scale s the graph must see (mel − m)/s: feed mel·s + m and expect the golden waveform.
    const meanScale = new Map(vocoderWeights);
    const m = Float32Array.from({ length: 64 }, (_, i) => 0.01 * i - 0.3);
    const s = Float32Array.from({ length: 64 }, (_, i) => 0.5 + 0.25 * (i % 4)); // powers of two apart: exact
    meanScale.set('mean', { shape: [64], data: m });
    meanScale.set('scale', { shape: [64], data: s });
    const shifted = Float32Array.from(mel, (x, i) => x * s[i % 64] + m[i % 64]);
    const built = buildAudioLdmVocoder({ ...vocoderConfig, normalizeBefore: true }, mapSource(meanScale, 'vocoder'));
    const out = await run(built.bytes, VOCODER_INPUTS, VOCODER_OUTPUTS, { mel: f32(shifted, [1, 256, 64]) });
    expectGolden(out.waveform, goldenF32('vocoder_waveform'), 'vocoder_waveform (normalize_before)');
  });

  it('folds weight norm: w = g·v/‖v‖ over every axis but the first', () => {
    // Two output rows of a Conv1d [2, 1, 2]: v rows (3, 4) and (1, 0), magnitudes 10 and −2.
    const stored = new Map<string, StoredTensor>([
      ['c.weight_g', { shape: [2, 1, 1], data: Float32Array.from([10, -2]) }],
      ['c.weight_v', { shape: [2, 1, 2], data: Float32Array.from([3, 4, 1, 0]) }],
      ['plain.weight', { shape: [2], data: Float32Array.from([7, 8]) }],
    ]);
    const source = foldWeightNorm(mapSource(stored, 'vocoder'), (k) => stored.has(k));
    expect([...source.tensor('c.weight', [2, 1, 2])]).toEqual([6, 8, -2, -0]);
    expect([...source.tensor('plain.weight', [2])]).toEqual([7, 8]);
    expect(() => source.tensor('absent.weight', [2])).toThrow("has no tensor 'absent.weight' that vocoder needs (expected [2])");
  });

  it.each([
    ['weight_g', 'weight_v'],
    ['parametrizations.weight.original0', 'parametrizations.weight.original1'],
  ])('reproduces vocoder_waveform from a checkpoint with weight-normalised convolutions (%s, %s)', async (gName, vName) => {
    // Every conv weight w becomes v = w·c_r (c_r > 0 per dim-0 slice) and g_r = ‖w_r‖, so g·v/‖v‖ = w again.
    const normed = new Map<string, StoredTensor>();
    const rng = createRng(7);
    for (const [key, t] of vocoderWeights) {
      if (!key.endsWith('.weight') || t.shape.length !== 3) {
        normed.set(key, t);
        continue;
      }
      const base = key.slice(0, -'.weight'.length);
      const rows = t.shape[0];
      const per = t.data.length / rows;
      const v = new Float32Array(t.data.length);
      const g = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        const c = 0.5 + rng.uniform() * 3;
        let sq = 0;
        for (let i = r * per; i < (r + 1) * per; i++) {
          v[i] = t.data[i] * c;
          sq += t.data[i] * t.data[i];
        }
        g[r] = Math.sqrt(sq);
      }
      normed.set(`${base}.${gName}`, { shape: [rows, 1, 1], data: g });
      normed.set(`${base}.${vName}`, { shape: t.shape, data: v });
    }
    const built = buildAudioLdmVocoder(vocoderConfig, mapSource(normed, 'vocoder'), (k) => normed.has(k));
    const out = await run(built.bytes, VOCODER_INPUTS, VOCODER_OUTPUTS, { mel: f32(mel, [1, 256, 64]) });
    expectGolden(out.waveform, goldenF32('vocoder_waveform'), 'vocoder_waveform (weight norm)');
  });

  it('names a missing tensor, and a mis-shaped one with its expected and actual shape', () => {
    const missing = new Map(vocoderWeights);
    missing.delete('resblocks.7.convs2.1.weight');
    expect(() => buildAudioLdmVocoder(vocoderConfig, mapSource(missing, 'vocoder'))).toThrow(
      "has no tensor 'resblocks.7.convs2.1.weight' that vocoder needs (expected [4, 4, 7])",
    );
    const wider = { ...vocoderConfig, upsampleInitialChannel: 64 };
    expect(() => buildAudioLdmVocoder(wider, mapSource(vocoderWeights, 'vocoder'))).toThrow(
      "tensor 'conv_pre.weight' has shape [32, 64, 7] but vocoder needs [64, 64, 7]",
    );
  });

  it('refuses configs it cannot build, naming the field', () => {
    const base = config('vocoder') as Record<string, unknown>;
    expect(() => parseHifiGanConfig({ ...base, upsample_rates: [5, 4, 2, 2] })).toThrow(AudioLdmConfigError);
    expect(() => parseHifiGanConfig({ ...base, upsample_rates: [5, 4, 2, 2] })).toThrow(/upsample_rates has 4 entries but upsample_kernel_sizes has 5/);
    expect(() => parseHifiGanConfig({ ...base, resblock_kernel_sizes: [3, 7, 10] })).toThrow(/resblock_kernel_sizes\[2\] is 10/);
    expect(() => parseHifiGanConfig({ ...base, leaky_relu_slope: 'x' })).toThrow(/field 'leaky_relu_slope'/);
    expect(() => parseHifiGanConfig({ ...base, upsample_initial_channel: 48 })).toThrow(/upsample_initial_channel 48 is not a multiple of 2\^5/);
  });
});
