/**
 * The fields of a diffusers AudioLDM folder's `text_encoder/config.json` (transformers `ClapTextConfig`) and
 * `vocoder/config.json` (`SpeechT5HifiGanConfig`) that the graph builders use, validated, with transformers' defaults
 * for the fields a config may leave out. Other fields (dropout, initializer ranges, `architectures`) are ignored.
 * A config this converter cannot build (another activation, mismatched list lengths) is refused with an
 * {@link AudioLdmConfigError} naming the file and the field, as the UNet/VAE configs are (config-unet-vae.ts).
 */
import * as v from 'valibot';
import { AudioLdmConfigError } from './config-unet-vae.ts';

/** The text tower's sizes and constants (`ClapTextModelWithProjection`). */
export interface ClapTextConfig {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  intermediateSize: number;
  maxPositionEmbeddings: number;
  typeVocabSize: number;
  layerNormEps: number;
  /** Width of text_embeds (512 for every AudioLDM). */
  projectionDim: number;
  /** RoBERTa's padding id: it marks pads for the position ids and is the first position (pads sit at it). */
  padTokenId: number;
}

/** The vocoder's sizes and constants (`SpeechT5HifiGan`). */
export interface HifiGanConfig {
  /** Mel bins of the input. */
  modelInDim: number;
  samplingRate: number;
  upsampleInitialChannel: number;
  upsampleRates: number[];
  upsampleKernelSizes: number[];
  resblockKernelSizes: number[];
  /** One list of dilations per resblock kernel size. */
  resblockDilationSizes: number[][];
  /** Slope of every body leaky ReLU; the one before conv_post keeps PyTorch's default 0.01. */
  leakyReluSlope: number;
  /** Normalises the mel with the stored `mean`/`scale` buffers first. */
  normalizeBefore: boolean;
}

const size = v.pipe(v.number(), v.integer(), v.minValue(1));
const positive = v.pipe(v.number(), v.finite(), v.gtValue(0));

// Defaults as transformers' ClapTextConfig.__init__ has them (a config written by save_pretrained lists every field).
const ClapTextSchema = v.object({
  vocab_size: v.optional(size, 50265),
  hidden_size: v.optional(size, 768),
  num_hidden_layers: v.optional(size, 12),
  num_attention_heads: v.optional(size, 12),
  intermediate_size: v.optional(size, 3072),
  hidden_act: v.optional(v.picklist(['gelu'], "must be 'gelu' (the only activation this converter builds)"), 'gelu'),
  max_position_embeddings: v.optional(size, 514),
  type_vocab_size: v.optional(size, 1),
  layer_norm_eps: v.optional(positive, 1e-12),
  projection_dim: v.optional(size, 512),
  projection_hidden_act: v.optional(v.picklist(['relu'], "must be 'relu' (CLAP's projection)"), 'relu'),
  position_embedding_type: v.optional(v.picklist(['absolute'], "must be 'absolute' (RoBERTa's learned positions)"), 'absolute'),
  pad_token_id: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 1),
});

// Defaults as transformers' SpeechT5HifiGanConfig.__init__ has them.
const HifiGanSchema = v.object({
  model_in_dim: v.optional(size, 80),
  sampling_rate: v.optional(size, 16000),
  upsample_initial_channel: v.optional(size, 512),
  upsample_rates: v.optional(v.pipe(v.array(size), v.minLength(1)), [4, 4, 4, 4]),
  upsample_kernel_sizes: v.optional(v.pipe(v.array(size), v.minLength(1)), [8, 8, 8, 8]),
  resblock_kernel_sizes: v.optional(v.pipe(v.array(size), v.minLength(1)), [3, 7, 11]),
  resblock_dilation_sizes: v.optional(v.pipe(v.array(v.pipe(v.array(size), v.minLength(1))), v.minLength(1)), [
    [1, 3, 5],
    [1, 3, 5],
    [1, 3, 5],
  ]),
  leaky_relu_slope: v.optional(v.pipe(v.number(), v.finite(), v.minValue(0)), 0.1),
  normalize_before: v.optional(v.boolean(), true),
});

function parse<S extends v.GenericSchema>(schema: S, json: unknown, file: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = v.getDotPath(issue) ?? '(root)';
    throw new AudioLdmConfigError(
      `${file}: field '${field}' ${issue.message} (found ${JSON.stringify(issue.input)}). ` +
        'Use the config.json that came with the checkpoint, or correct that field.',
    );
  }
  return parsed.output;
}

function refuse(file: string, message: string): never {
  throw new AudioLdmConfigError(`${file}: ${message}. Use the config.json that came with the checkpoint.`);
}

/** Validates a `text_encoder/config.json` (`file` names it in errors). */
export function parseClapTextConfig(json: unknown, file = 'text_encoder/config.json'): ClapTextConfig {
  const c = parse(ClapTextSchema, json, file);
  if (c.hidden_size % c.num_attention_heads !== 0) {
    refuse(file, `hidden_size ${c.hidden_size} is not divisible by num_attention_heads ${c.num_attention_heads}`);
  }
  if (c.pad_token_id >= c.max_position_embeddings) {
    refuse(file, `pad_token_id ${c.pad_token_id} is not below max_position_embeddings ${c.max_position_embeddings}`);
  }
  return {
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    numHiddenLayers: c.num_hidden_layers,
    numAttentionHeads: c.num_attention_heads,
    intermediateSize: c.intermediate_size,
    maxPositionEmbeddings: c.max_position_embeddings,
    typeVocabSize: c.type_vocab_size,
    layerNormEps: c.layer_norm_eps,
    projectionDim: c.projection_dim,
    padTokenId: c.pad_token_id,
  };
}

/** Validates a `vocoder/config.json` (`file` names it in errors). */
export function parseHifiGanConfig(json: unknown, file = 'vocoder/config.json'): HifiGanConfig {
  const c = parse(HifiGanSchema, json, file);
  if (c.upsample_rates.length !== c.upsample_kernel_sizes.length) {
    refuse(file, `upsample_rates has ${c.upsample_rates.length} entries but upsample_kernel_sizes has ${c.upsample_kernel_sizes.length}; they must pair up`);
  }
  c.upsample_rates.forEach((u, i) => {
    const k = c.upsample_kernel_sizes[i];
    if (k < u) refuse(file, `upsample_kernel_sizes[${i}] ${k} is smaller than upsample_rates[${i}] ${u}`);
  });
  if (c.resblock_dilation_sizes.length !== c.resblock_kernel_sizes.length) {
    refuse(file, `resblock_dilation_sizes has ${c.resblock_dilation_sizes.length} lists but resblock_kernel_sizes has ${c.resblock_kernel_sizes.length}; they must pair up`);
  }
  c.resblock_kernel_sizes.forEach((k, i) => {
    if (k % 2 === 0) refuse(file, `resblock_kernel_sizes[${i}] is ${k}; HiFi-GAN's 'same' padding needs an odd kernel`);
  });
  const stages = c.upsample_rates.length;
  if (c.upsample_initial_channel % 2 ** stages !== 0) {
    refuse(file, `upsample_initial_channel ${c.upsample_initial_channel} is not a multiple of 2^${stages} (halved at each of ${stages} stages)`);
  }
  return {
    modelInDim: c.model_in_dim,
    samplingRate: c.sampling_rate,
    upsampleInitialChannel: c.upsample_initial_channel,
    upsampleRates: c.upsample_rates,
    upsampleKernelSizes: c.upsample_kernel_sizes,
    resblockKernelSizes: c.resblock_kernel_sizes,
    resblockDilationSizes: c.resblock_dilation_sizes,
    leakyReluSlope: c.leaky_relu_slope,
    normalizeBefore: c.normalize_before,
  };
}
