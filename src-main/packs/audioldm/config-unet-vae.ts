/**
 * The diffusers `config.json` fields of AudioLDM's UNet2DConditionModel and AutoencoderKL that decide the graphs
 * (unet.ts, vae-decoder.ts), validated with the values AudioLDM uses: a config that would need another topology
 * (other block types, a linear projection, cross-attention to text, a timestep embedding of another kind) is refused
 * by name instead of being converted into a different model.
 */
import * as v from 'valibot';
import { CodedError } from '../../contract/errors.ts';

/** A diffusers config that cannot drive the AudioLDM graphs; the message names the file, the field and what it holds. */
export class AudioLdmConfigError extends CodedError<'model-error'> {
  override name = 'AudioLdmConfigError';
  constructor(message: string) {
    super('model-error', message);
  }
}

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const positiveInts = v.pipe(v.array(positiveInt), v.minLength(1));
/** A field diffusers accepts as one value for every level or a list per level. */
const perLevel = v.union([positiveInt, positiveInts]);
/** Optional field that must hold `value` when present (null counts as absent). */
const only = <T extends string | number | boolean>(value: T) => v.optional(v.nullable(v.literal(value)));

const UnetConfigSchema = v.object({
  block_out_channels: positiveInts,
  down_block_types: v.array(v.picklist(['DownBlock2D', 'CrossAttnDownBlock2D'])),
  up_block_types: v.array(v.picklist(['UpBlock2D', 'CrossAttnUpBlock2D'])),
  layers_per_block: positiveInt,
  in_channels: positiveInt,
  out_channels: positiveInt,
  attention_head_dim: v.optional(v.nullable(perLevel)),
  num_attention_heads: v.optional(v.nullable(perLevel)),
  cross_attention_dim: v.optional(v.nullable(perLevel)),
  class_embed_type: v.literal('simple_projection'),
  projection_class_embeddings_input_dim: positiveInt,
  class_embeddings_concat: v.literal(true),
  norm_num_groups: positiveInt,
  norm_eps: v.pipe(v.number(), v.minValue(0)),
  flip_sin_to_cos: v.optional(v.literal(true)),
  freq_shift: v.optional(v.literal(0)),
  act_fn: v.optional(v.literal('silu')),
  use_linear_projection: only(false),
  upcast_attention: v.optional(v.nullable(v.boolean())),
  only_cross_attention: only(false),
  dual_cross_attention: only(false),
  center_input_sample: only(false),
  resnet_time_scale_shift: only('default'),
  mid_block_type: only('UNetMidBlock2DCrossAttn'),
  mid_block_scale_factor: only(1),
  resnet_out_scale_factor: only(1),
  transformer_layers_per_block: only(1),
  time_embedding_type: only('positional'),
  time_embedding_dim: v.optional(v.null()),
  time_embedding_act_fn: v.optional(v.null()),
  timestep_post_act: v.optional(v.null()),
  time_cond_proj_dim: v.optional(v.null()),
  addition_embed_type: v.optional(v.null()),
  encoder_hid_dim: v.optional(v.null()),
  conv_in_kernel: only(3),
  conv_out_kernel: only(3),
  downsample_padding: only(1),
  attention_type: only('default'),
});

const VaeConfigSchema = v.object({
  block_out_channels: positiveInts,
  up_block_types: v.array(v.literal('UpDecoderBlock2D')),
  layers_per_block: positiveInt,
  out_channels: positiveInt,
  latent_channels: positiveInt,
  norm_num_groups: positiveInt,
  scaling_factor: v.pipe(v.number(), v.gtValue(0)),
  act_fn: v.optional(v.literal('silu')),
  mid_block_add_attention: v.optional(v.boolean()),
  use_post_quant_conv: v.optional(v.boolean()),
  shift_factor: v.optional(v.null()),
  latents_mean: v.optional(v.null()),
  latents_std: v.optional(v.null()),
});

/** What unet.ts needs from `unet/config.json`. */
export interface UnetConfig {
  /** Channels per level, shallowest first. */
  blockOutChannels: number[];
  /** Whether each level's blocks carry transformers (CrossAttn…Block2D); the up path mirrors the down path. */
  attentionLevels: boolean[];
  layersPerBlock: number;
  inChannels: number;
  outChannels: number;
  /** Heads per level as diffusers builds them (`num_attention_heads or attention_head_dim`, default 8; caveat 1). */
  configHeads: number[];
  /** Width of class_labels (the CLAP projection, 512). */
  classEmbedInputDim: number;
  normGroups: number;
  /** eps of the resnet GroupNorms and conv_norm_out (the transformers' own GroupNorm uses 1e-6). */
  normEps: number;
}

/** What vae-decoder.ts needs from `vae/config.json`. */
export interface VaeConfig {
  /** Channels per level, shallowest first (the decoder walks them deepest first). */
  blockOutChannels: number[];
  layersPerBlock: number;
  latentChannels: number;
  outChannels: number;
  normGroups: number;
  /** The latent is divided by it before decoding (folded into the graph). */
  scalingFactor: number;
  midBlockAttention: boolean;
  postQuantConv: boolean;
}

function parse<S extends v.GenericSchema>(schema: S, json: unknown, where: string): v.InferOutput<S> {
  const result = v.safeParse(schema, json);
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => {
    const got = issue.received === 'undefined' ? 'missing' : `got ${issue.received}`;
    return `  - ${v.getDotPath(issue) ?? '(root)'}: ${issue.message} (${got})`;
  });
  throw new AudioLdmConfigError(
    `${where} is not an AudioLDM configuration Tessera can convert:\n${problems.join('\n')}\n` +
      'Convert a diffusers AudioLDM (v1) checkpoint, or fix the listed fields.',
  );
}

/** One value per level from a field diffusers takes as a number or a list. */
function levels(value: number | number[], count: number, field: string, where: string): number[] {
  if (typeof value === 'number') return Array<number>(count).fill(value);
  if (value.length !== count) {
    throw new AudioLdmConfigError(`${where}: ${field} has ${value.length} entries [${value.join(', ')}] but block_out_channels has ${count} levels; give one per level`);
  }
  return value;
}

/** Validates `unet/config.json` (parsed JSON); `where` names the file in errors. */
export function parseUnetConfig(json: unknown, where = 'unet/config.json'): UnetConfig {
  const c = parse(UnetConfigSchema, json, where);
  const n = c.block_out_channels.length;
  if (c.down_block_types.length !== n || c.up_block_types.length !== n) {
    throw new AudioLdmConfigError(
      `${where}: down_block_types (${c.down_block_types.length}) and up_block_types (${c.up_block_types.length}) must have one entry per block_out_channels level (${n})`,
    );
  }
  const attentionLevels = c.down_block_types.map((t) => t === 'CrossAttnDownBlock2D');
  c.up_block_types.forEach((t, i) => {
    const level = n - 1 - i;
    if ((t === 'CrossAttnUpBlock2D') !== attentionLevels[level]) {
      throw new AudioLdmConfigError(
        `${where}: up_block_types[${i}] is ${t} but down_block_types[${level}] is ${c.down_block_types[level]}; AudioLDM's up path mirrors its down path`,
      );
    }
  });
  // diffusers: `num_attention_heads = num_attention_heads or attention_head_dim` (the legacy name holds heads).
  const configHeads = levels(c.num_attention_heads ?? c.attention_head_dim ?? 8, n, 'attention_head_dim', where);
  if (c.cross_attention_dim !== undefined && c.cross_attention_dim !== null) {
    // attn2 attends to its own hidden states (encoder_hidden_states is None), so its key/value width is the block's.
    const cross = levels(c.cross_attention_dim, n, 'cross_attention_dim', where);
    cross.forEach((d, i) => {
      if (attentionLevels[i] && d !== c.block_out_channels[i]) {
        throw new AudioLdmConfigError(
          `${where}: cross_attention_dim[${i}] is ${d} but level ${i} has ${c.block_out_channels[i]} channels; AudioLDM's attn2 is self-attention, so they must be equal`,
        );
      }
    });
  }
  for (const ch of c.block_out_channels) {
    if (ch % c.norm_num_groups !== 0) throw new AudioLdmConfigError(`${where}: block_out_channels entry ${ch} is not divisible by norm_num_groups ${c.norm_num_groups}`);
  }
  return {
    blockOutChannels: c.block_out_channels,
    attentionLevels,
    layersPerBlock: c.layers_per_block,
    inChannels: c.in_channels,
    outChannels: c.out_channels,
    configHeads,
    classEmbedInputDim: c.projection_class_embeddings_input_dim,
    normGroups: c.norm_num_groups,
    normEps: c.norm_eps,
  };
}

/** Validates `vae/config.json` (parsed JSON); `where` names the file in errors. */
export function parseVaeConfig(json: unknown, where = 'vae/config.json'): VaeConfig {
  const c = parse(VaeConfigSchema, json, where);
  if (c.up_block_types.length !== c.block_out_channels.length) {
    throw new AudioLdmConfigError(
      `${where}: up_block_types has ${c.up_block_types.length} entries but block_out_channels has ${c.block_out_channels.length}; give one UpDecoderBlock2D per level`,
    );
  }
  for (const ch of c.block_out_channels) {
    if (ch % c.norm_num_groups !== 0) throw new AudioLdmConfigError(`${where}: block_out_channels entry ${ch} is not divisible by norm_num_groups ${c.norm_num_groups}`);
  }
  return {
    blockOutChannels: c.block_out_channels,
    layersPerBlock: c.layers_per_block,
    latentChannels: c.latent_channels,
    outChannels: c.out_channels,
    normGroups: c.norm_num_groups,
    scalingFactor: c.scaling_factor,
    midBlockAttention: c.mid_block_add_attention ?? true,
    postQuantConv: c.use_post_quant_conv ?? true,
  };
}
