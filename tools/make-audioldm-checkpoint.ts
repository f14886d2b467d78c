/**
 * Writes a full-size random-weight AudioLDM-S checkpoint (cvssp/audioldm-s-full-v2's topology) in diffusers layout,
 * for the conversion benchmark (`npm run bench:convert`, issue 13 "Measure"): model_index.json, each component's
 * config.json, the four weight files as safetensors and the tokenizer files of the audioldm-tiny fixture.
 *
 *   npx tsx tools/make-audioldm-checkpoint.ts OUT_DIR [--width 128]
 *
 * Which tensors each component has, and their shapes, come from the converter's own graph builders: each graph is
 * built once over a recording weight source, which remembers every key it is asked for in PyTorch layout. The VAE's
 * encoder and quant_conv (which the converter skips) are listed by hand from diffusers' `Encoder`, and the buffers
 * the real checkpoints carry (CLAP's position ids, the vocoder's mean/scale) are added, so the files are as large as
 * the real ones. The weights are uniform noise in ±0.02 from a seeded generator, streamed tensor by tensor: the
 * generator holds no weights in memory. The output is not committed (about 1.7 GB at width 128).
 */
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseClapTextConfig, parseHifiGanConfig } from '../src-main/packs/audioldm/config-text-vocoder.ts';
import { parseUnetConfig, parseVaeConfig } from '../src-main/packs/audioldm/config-unet-vae.ts';
import { buildAudioLdmTextEncoder } from '../src-main/packs/audioldm/text-encoder.ts';
import { buildAudioLdmUnet } from '../src-main/packs/audioldm/unet.ts';
import { buildAudioLdmVaeDecoder } from '../src-main/packs/audioldm/vae-decoder.ts';
import { buildAudioLdmVocoder } from '../src-main/packs/audioldm/vocoder.ts';
import type { WeightSource } from '../src-main/packs/graph/nn.ts';

/** One tensor of a checkpoint to write: its PyTorch shape and dtype. */
export interface TensorSpec {
  name: string;
  shape: number[];
  dtype: 'F32' | 'I64';
}

/** A weight source that hands out zeros and remembers every key and its PyTorch shape. */
class RecordingSource implements WeightSource {
  readonly tensors: TensorSpec[] = [];
  tensor(key: string, dims: readonly number[], options?: { transpose?: boolean }): Float32Array {
    const shape = options?.transpose ? [dims[1], dims[0]] : [...dims];
    this.tensors.push({ name: key, shape, dtype: 'F32' });
    return new Float32Array(shape.reduce((a, b) => a * b, 1));
  }
}

/** The diffusers / transformers configs of AudioLDM-S at UNet width `w` (128 for the real model). */
export function audioLdmSConfigs(w: number): Record<string, Record<string, unknown>> {
  const unetWidths = [w, 2 * w, 3 * w, 5 * w];
  const vaeWidths = [w, 2 * w, 4 * w];
  return {
    'model_index.json': {
      _class_name: 'AudioLDMPipeline',
      _diffusers_version: '0.33.1',
      scheduler: ['diffusers', 'DDIMScheduler'],
      text_encoder: ['transformers', 'ClapTextModelWithProjection'],
      tokenizer: ['transformers', 'RobertaTokenizerFast'],
      unet: ['diffusers', 'UNet2DConditionModel'],
      vae: ['diffusers', 'AutoencoderKL'],
      vocoder: ['transformers', 'SpeechT5HifiGan'],
    },
    'unet/config.json': {
      _class_name: 'UNet2DConditionModel',
      act_fn: 'silu',
      // The diffusers conversion script writes none, so diffusers' default of 8 applies; the converter's default
      // ('original') ignores it.
      attention_head_dim: 8,
      block_out_channels: unetWidths,
      center_input_sample: false,
      class_embed_type: 'simple_projection',
      class_embeddings_concat: true,
      cross_attention_dim: unetWidths,
      down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
      downsample_padding: 1,
      flip_sin_to_cos: true,
      freq_shift: 0,
      in_channels: 8,
      layers_per_block: 2,
      mid_block_scale_factor: 1,
      norm_eps: 1e-5,
      norm_num_groups: 32,
      out_channels: 8,
      projection_class_embeddings_input_dim: 512,
      resnet_time_scale_shift: 'default',
      sample_size: 128,
      up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
      upcast_attention: false,
      use_linear_projection: false,
    },
    'vae/config.json': {
      _class_name: 'AutoencoderKL',
      act_fn: 'silu',
      block_out_channels: vaeWidths,
      down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D', 'DownEncoderBlock2D'],
      in_channels: 1,
      latent_channels: 8,
      layers_per_block: 2,
      norm_num_groups: 32,
      out_channels: 1,
      sample_size: 512,
      scaling_factor: 0.9227914214134216,
      up_block_types: ['UpDecoderBlock2D', 'UpDecoderBlock2D', 'UpDecoderBlock2D'],
    },
    'text_encoder/config.json': {
      vocab_size: 50265,
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      hidden_act: 'gelu',
      max_position_embeddings: 514,
      type_vocab_size: 1,
      layer_norm_eps: 1e-5,
      projection_dim: 512,
      projection_hidden_act: 'relu',
      pad_token_id: 1,
      bos_token_id: 0,
      eos_token_id: 2,
      architectures: ['ClapTextModelWithProjection'],
      torch_dtype: 'float32',
      model_type: 'clap_text_model',
    },
    'vocoder/config.json': {
      model_in_dim: 64,
      sampling_rate: 16000,
      upsample_initial_channel: 1024,
      upsample_rates: [5, 4, 2, 2, 2],
      upsample_kernel_sizes: [16, 16, 8, 4, 4],
      resblock_kernel_sizes: [3, 7, 11],
      resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
      leaky_relu_slope: 0.1,
      normalize_before: false,
      architectures: ['SpeechT5HifiGan'],
      torch_dtype: 'float32',
      model_type: 'hifigan',
    },
    'scheduler/scheduler_config.json': {
      _class_name: 'DDIMScheduler',
      beta_end: 0.0195,
      beta_schedule: 'scaled_linear',
      beta_start: 0.0015,
      clip_sample: false,
      num_train_timesteps: 1000,
      prediction_type: 'epsilon',
      set_alpha_to_one: false,
      steps_offset: 1,
      timestep_spacing: 'leading',
      trained_betas: null,
    },
  };
}

/** diffusers' `Encoder` + `quant_conv` tensors of an AutoencoderKL (what the converter skips but the file holds). */
export function vaeEncoderTensors(widths: number[], latent: number, layers: number): TensorSpec[] {
  const out: TensorSpec[] = [];
  const t = (name: string, ...shape: number[]): void => void out.push({ name, shape, dtype: 'F32' });
  /** A convolution (or linear layer) with its bias. */
  const layer = (p: string, shape: number[]): void => {
    t(`${p}.weight`, ...shape);
    t(`${p}.bias`, shape[0]);
  };
  const norm = (p: string, c: number): void => {
    t(`${p}.weight`, c);
    t(`${p}.bias`, c);
  };
  const resnet = (p: string, cin: number, cout: number): void => {
    norm(`${p}.norm1`, cin);
    layer(`${p}.conv1`, [cout, cin, 3, 3]);
    norm(`${p}.norm2`, cout);
    layer(`${p}.conv2`, [cout, cout, 3, 3]);
    if (cin !== cout) layer(`${p}.conv_shortcut`, [cout, cin, 1, 1]);
  };
  layer('encoder.conv_in', [widths[0], 1, 3, 3]);
  let cin = widths[0];
  widths.forEach((cout, i) => {
    for (let j = 0; j < layers; j++) resnet(`encoder.down_blocks.${i}.resnets.${j}`, j === 0 ? cin : cout, cout);
    if (i < widths.length - 1) layer(`encoder.down_blocks.${i}.downsamplers.0.conv`, [cout, cout, 3, 3]);
    cin = cout;
  });
  const c = widths.at(-1) as number;
  resnet('encoder.mid_block.resnets.0', c, c);
  norm('encoder.mid_block.attentions.0.group_norm', c);
  for (const p of ['to_q', 'to_k', 'to_v', 'to_out.0']) layer(`encoder.mid_block.attentions.0.${p}`, [c, c]);
  resnet('encoder.mid_block.resnets.1', c, c);
  norm('encoder.conv_norm_out', c);
  layer('encoder.conv_out', [2 * latent, c, 3, 3]);
  layer('quant_conv', [2 * latent, 2 * latent, 1, 1]);
  return out;
}

/** xorshift32: a seeded, fast source of noise (the weights' values do not matter, only their bytes). */
function noise(seed: number): (out: Float32Array) => void {
  let s = seed >>> 0 || 1;
  return (out) => {
    for (let i = 0; i < out.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = ((s >>> 0) / 4294967296 - 0.5) * 0.04;
    }
  };
}

/** Streams `tensors` into a safetensors file (header, then each tensor's bytes in order); returns the file's bytes. */
async function writeSafetensors(path: string, tensors: readonly TensorSpec[], seed: number): Promise<number> {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'I64' ? 8 : 4);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const file = await open(path, 'w');
  try {
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    await file.write(prefix);
    await file.write(Buffer.from(json, 'utf8'));
    const fill = noise(seed);
    for (const t of tensors) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (t.dtype === 'I64') {
        const ids = new BigInt64Array(n);
        for (let i = 0; i < n; i++) ids[i] = BigInt(i % t.shape[t.shape.length - 1]);
        await file.write(new Uint8Array(ids.buffer));
        continue;
      }
      // Large tensors in 16 MiB pieces, so the generator's memory stays small.
      const chunk = new Float32Array(Math.min(n, 4 << 20));
      for (let done = 0; done < n; done += chunk.length) {
        const part = chunk.subarray(0, Math.min(chunk.length, n - done));
        fill(part);
        await file.write(new Uint8Array(part.buffer, 0, part.byteLength));
      }
    }
  } finally {
    await file.close();
  }
  return 8 + json.length + offset;
}

/** Writes the checkpoint into `out`; returns each weight file's bytes. */
export async function makeAudioLdmCheckpoint(out: string, width = 128): Promise<Record<string, number>> {
  const configs = audioLdmSConfigs(width);
  for (const [file, json] of Object.entries(configs)) {
    await mkdir(join(out, file, '..'), { recursive: true });
    await writeFile(join(out, file), `${JSON.stringify(json, null, 2)}\n`);
  }
  const tokenizer = join(import.meta.dirname, '..', 'tests', 'fixtures', 'audioldm-tiny', 'model', 'tokenizer');
  await mkdir(join(out, 'tokenizer'), { recursive: true });
  for (const f of ['vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json']) await copyFile(join(tokenizer, f), join(out, 'tokenizer', f));

  const record = (build: (s: RecordingSource) => void): TensorSpec[] => {
    const s = new RecordingSource();
    build(s);
    return s.tensors;
  };
  const text = parseClapTextConfig(configs['text_encoder/config.json']);
  const unet = parseUnetConfig(configs['unet/config.json']);
  const vae = parseVaeConfig(configs['vae/config.json']);
  const vocoder = parseHifiGanConfig(configs['vocoder/config.json']);
  const components: Array<[string, () => TensorSpec[]]> = [
    ['text_encoder/model.safetensors', () => [
      ...record((s) => buildAudioLdmTextEncoder(text, s)),
      { name: 'text_model.embeddings.position_ids', shape: [1, 514], dtype: 'I64' },
      { name: 'text_model.embeddings.token_type_ids', shape: [1, 514], dtype: 'I64' },
    ]],
    ['unet/diffusion_pytorch_model.safetensors', () => record((s) => buildAudioLdmUnet(unet, s))],
    ['vae/diffusion_pytorch_model.safetensors', () => [...vaeEncoderTensors([width, 2 * width, 4 * width], 8, 2), ...record((s) => buildAudioLdmVaeDecoder(vae, s))]],
    ['vocoder/model.safetensors', () => [
      ...record((s) => buildAudioLdmVocoder(vocoder, s, () => false)),
      { name: 'mean', shape: [64], dtype: 'F32' },
      { name: 'scale', shape: [64], dtype: 'F32' },
    ]],
  ];
  const sizes: Record<string, number> = {};
  let seed = 1;
  for (const [file, list] of components) sizes[file] = await writeSafetensors(join(out, file), list(), seed++);
  return sizes;
}

// Run as a script (not when bench-convert imports it).
if (process.argv[1] !== undefined && resolve(process.argv[1]) === import.meta.filename) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { width: { type: 'string', default: '128' } } });
  const [out] = positionals;
  if (!out) {
    process.stderr.write('usage: npx tsx tools/make-audioldm-checkpoint.ts OUT_DIR [--width 128]\n');
    process.exit(2);
  }
  const width = Number(values.width);
  if (!Number.isInteger(width) || width < 32 || width % 32 !== 0) {
    process.stderr.write(`--width is ${values.width}; expected a multiple of 32 (128 is AudioLDM-S)\n`);
    process.exit(2);
  }
  const started = performance.now();
  const sizes = await makeAudioLdmCheckpoint(out, width);
  const total = Object.values(sizes).reduce((a, b) => a + b, 0);
  for (const [file, bytes] of Object.entries(sizes)) process.stdout.write(`${file.padEnd(44)} ${(bytes / 1e6).toFixed(1).padStart(8)} MB\n`);
  process.stdout.write(`${'total'.padEnd(44)} ${(total / 1e6).toFixed(1).padStart(8)} MB in ${((performance.now() - started) / 1000).toFixed(1)} s → ${out}\n`);
}
