/**
 * The manifest of a pack converted from a diffusers AudioLDM folder, filled as tools/export-audioldm fills it
 * (audioldm_export/manifest.py): geometry from the configs, the scheduler from scheduler_config.json, the VAE's
 * scaling factor, decode halos traced through the layers the builders make, the diffusers pipeline's defaults, and
 * the CC BY-NC-SA 4.0 notice the weights carry. Pure: configs in, a manifest draft out (hashes come at write time).
 */
import * as v from 'valibot';
import { type AudioLdmComponentName, MANIFEST_SCHEMA_VERSION } from '../../../contract/manifest.ts';
import type { NoiseScheduleConfig } from '../../../engine/schedulers/types.ts';
import type { ClapTextConfig, HifiGanConfig } from '../../../packs/audioldm/config-text-vocoder.ts';
import type { UnetConfig, VaeConfig } from '../../../packs/audioldm/config-unet-vae.ts';
import { hifiGanHaloMelFrames, hifiGanOutputLength } from '../../../packs/audioldm/vocoder.ts';
import { convSpan, nearestUpSpan, traceBack, type IntervalMap } from '../../../packs/graph/nn.ts';
import type { AudioLdmManifestDraft } from '../../../packs/types.ts';
import { ConvertError } from './errors.ts';

/** The converter's version: part of every converted pack's version, so a changed converter makes a new pack. */
export const CONVERTER_VERSION = '1.0.0';
/** Training window: 1024 mel frames = 10.24 s = 256 latent frames (not in the diffusers configs). */
export const NATIVE_WINDOW_FRAMES = 256;
/** The licence of every cvssp AudioLDM checkpoint. */
export const AUDIOLDM_LICENCE = { name: 'CC BY-NC-SA 4.0', url: 'https://creativecommons.org/licenses/by-nc-sa/4.0/' } as const;
/** diffusers AudioLDMPipeline's defaults: 10 DDIM steps, guidance 2.5, η 0. */
export const AUDIOLDM_DEFAULTS = { steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0 } as const;

/** File name of each graph (the same as the exporter's and the built-in packs'). */
export const GRAPH_FILES: Readonly<Record<AudioLdmComponentName, string>> = {
  textEncoder: 'text_encoder.onnx',
  unet: 'unet.onnx',
  vaeDecoder: 'vae_decoder.onnx',
  vocoder: 'vocoder.onnx',
};
/** The tokenizer and licence files of a converted pack. */
export const TOKENIZER_FILE = 'tokenizer.json';
export const LICENCE_FILE = 'LICENCE.txt';

/** Display names of the hub checkpoints (as the exporter names them). */
const DISPLAY_NAMES: Readonly<Record<string, string>> = {
  'cvssp/audioldm': 'AudioLDM S-full',
  'cvssp/audioldm-s-full-v2': 'AudioLDM S-full v2',
  'cvssp/audioldm-m-full': 'AudioLDM M-full',
  'cvssp/audioldm-l-full': 'AudioLDM L-full',
};

/** The display name of a hub repo or folder (`cvssp/audioldm-m-full` → AudioLDM M-full). */
export function displayName(source: string): string {
  return DISPLAY_NAMES[source] ?? (source.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || source);
}

// Missing keys take DDIMScheduler's defaults, as diffusers does when it loads the config.
const SchedulerSchema = v.object({
  _class_name: v.optional(v.string(), 'DDIMScheduler'),
  num_train_timesteps: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 1000),
  beta_start: v.optional(v.pipe(v.number(), v.gtValue(0)), 0.0001),
  beta_end: v.optional(v.pipe(v.number(), v.gtValue(0)), 0.02),
  beta_schedule: v.optional(v.string(), 'linear'),
  trained_betas: v.optional(v.nullable(v.unknown())),
  prediction_type: v.optional(v.string(), 'epsilon'),
  timestep_spacing: v.optional(v.string(), 'leading'),
  steps_offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  set_alpha_to_one: v.optional(v.boolean(), true),
  clip_sample: v.optional(v.boolean(), true),
  thresholding: v.optional(v.boolean(), false),
  rescale_betas_zero_snr: v.optional(v.boolean(), false),
});

/**
 * The manifest's `scheduler` from `scheduler/scheduler_config.json`; anything Tessera's scheduler does not implement
 * (another beta schedule, x0 clipping, thresholding, v-prediction) is refused with every reason at once.
 */
export function parseSchedulerConfig(json: unknown, where = 'scheduler/scheduler_config.json'): NoiseScheduleConfig {
  const parsed = v.safeParse(SchedulerSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new ConvertError('model-error', `${where}: field '${v.getDotPath(issue) ?? '(root)'}' ${issue.message}; use the scheduler_config.json that came with the checkpoint`);
  }
  const c = parsed.output;
  const problems: string[] = [];
  if (c.beta_schedule !== 'scaled_linear' && c.beta_schedule !== 'linear') problems.push(`beta_schedule '${c.beta_schedule}' (Tessera implements scaled_linear and linear)`);
  if (c.trained_betas !== undefined && c.trained_betas !== null) problems.push('trained_betas (an explicit beta table cannot be written in a manifest)');
  if (c.prediction_type !== 'epsilon') problems.push(`prediction_type '${c.prediction_type}' (the audioldm family predicts epsilon)`);
  if (!['leading', 'linspace', 'trailing'].includes(c.timestep_spacing)) problems.push(`timestep_spacing '${c.timestep_spacing}' (leading, linspace or trailing)`);
  if (c.thresholding) problems.push('thresholding = true');
  if (c.rescale_betas_zero_snr) problems.push('rescale_betas_zero_snr = true');
  // Every cvssp config has clip_sample false; Tessera's DDIM never clips x̂0.
  if (c.clip_sample && c._class_name === 'DDIMScheduler') problems.push("clip_sample = true (Tessera's DDIM does not clip x0)");
  if (problems.length > 0) throw new ConvertError('model-error', `${where} asks for what Tessera's scheduler does not do: ${problems.join('; ')}. Use the AudioLDM checkpoint's own scheduler config.`);
  return {
    trainTimesteps: c.num_train_timesteps,
    betaStart: c.beta_start,
    betaEnd: c.beta_end,
    betaSchedule: c.beta_schedule as NoiseScheduleConfig['betaSchedule'],
    predictionType: 'epsilon',
    timestepSpacing: c.timestep_spacing as NoiseScheduleConfig['timestepSpacing'],
    stepsOffset: c.steps_offset,
    setAlphaToOne: c.set_alpha_to_one,
  };
}

/** The configs of the four components, parsed. */
export interface AudioLdmConfigs {
  unet: UnetConfig;
  vae: VaeConfig;
  textEncoder: ClapTextConfig;
  vocoder: HifiGanConfig;
  scheduler: NoiseScheduleConfig;
}

/**
 * Refuses a set of configs that do not make one AudioLDM v1 model the audioldm contract can run: channels that do not
 * chain, a VAE that decodes more than one mel image, a class embedding of another width. Every problem at once.
 */
export function checkConfigsFit(c: AudioLdmConfigs): void {
  const problems: string[] = [];
  const latent = c.vae.latentChannels;
  if (c.unet.inChannels !== latent || c.unet.outChannels !== latent) problems.push(`the UNet's in/out channels ${c.unet.inChannels}/${c.unet.outChannels} are not the VAE's ${latent} latent channels`);
  if (c.vae.outChannels !== 1) problems.push(`the VAE decodes ${c.vae.outChannels} channels; the audioldm contract has one mel image`);
  if (c.unet.classEmbedInputDim !== c.textEncoder.projectionDim) {
    problems.push(`the UNet's class embedding takes ${c.unet.classEmbedInputDim} values but the text encoder's projection_dim is ${c.textEncoder.projectionDim}`);
  }
  const vaeScale = 2 ** (c.vae.blockOutChannels.length - 1);
  if (c.vocoder.modelInDim % vaeScale !== 0) problems.push(`the vocoder's ${c.vocoder.modelInDim} mel bins are not divisible by the VAE's scale ${vaeScale}`);
  if (problems.length > 0) {
    throw new ConvertError('model-error', `the folder's configs do not make one AudioLDM v1 model: ${problems.join('; ')}. Use the configs that came with the checkpoint.`);
  }
}

/**
 * The VAE decoder's receptive field in latent frames (`decode.vaeHaloLatentFrames`): conv_in, the mid block's two
 * resnets, then per level (layers_per_block + 1) resnets and, except at the last level, nearest ×2 + 3×3 conv,
 * conv_out. GroupNorm and the mid attention are global and not counted (as for shape-s and the exporter).
 */
export function vaeHaloLatentFrames(vae: VaeConfig): number {
  const c3 = convSpan(3);
  const res = [c3, c3];
  const layers: IntervalMap[] = [c3, ...res, ...res];
  const levels = vae.blockOutChannels.length;
  for (let level = 0; level < levels; level++) {
    for (let i = 0; i <= vae.layersPerBlock; i++) layers.push(...res);
    if (level < levels - 1) layers.push(nearestUpSpan(2), c3);
  }
  layers.push(c3);
  const up = 2 ** (levels - 1);
  const [z0, n] = [1000, 10];
  const [lo, hi] = traceBack(layers, z0 * up, (z0 + n) * up - 1);
  return Math.max(z0 - lo, hi - (z0 + n - 1));
}

/** Vocoder output = hop·F + this; refused when the vocoder is not that regular. */
function vocoderExtraSamples(vocoder: HifiGanConfig, hop: number): number {
  const extras = new Set([64, 100, 1024].map((f) => hifiGanOutputLength(vocoder, f) - hop * f));
  const [extra] = [...extras];
  if (extras.size !== 1 || extra < 0) {
    throw new ConvertError('model-error', `vocoder/config.json: the vocoder's output length is not hop·F + a constant (extras ${[...extras].join(', ')}); use an AudioLDM vocoder config`);
  }
  return extra;
}

/** Where a converted pack came from and how it was converted, for its name, version, description and licence. */
export interface ConversionSource {
  id: string;
  name: string;
  /** Hub repo (`cvssp/audioldm-s-full-v2`) or the folder converted. */
  source: string;
  /** The hub commit, when known. */
  revision?: string;
  /** How the UNet's attention heads were split, in words (for the description and the licence's "changes"). */
  headsNote: string;
  /** Tokenizer limits and special ids. */
  tokenizer: { maxLength: number; padId: number; unkId: number };
  /** External weight files per graph (graphs over 2 GB). */
  externalData?: Partial<Record<AudioLdmComponentName, string[]>>;
}

/** LICENCE.txt and the manifest's licence text: attribution, source, CC BY-NC-SA 4.0 terms, what was changed. */
export function licenceText(s: Pick<ConversionSource, 'source' | 'revision' | 'headsNote'>): string {
  const where = /^[\w.-]+\/[\w.-]+$/.test(s.source) ? `https://huggingface.co/${s.source}` : `local folder ${s.source}`;
  return (
    `${displayName(s.source)}: AudioLDM model weights by Haohe Liu et al. (Centre for Vision, Speech and Signal Processing, ` +
    'University of Surrey), "AudioLDM: Text-to-Audio Generation with Latent Diffusion Models", ICML 2023 (arXiv:2301.12503).\n' +
    `Source: ${where}${s.revision ? ` (revision ${s.revision})` : ''}.\n` +
    `Licence: Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International (${AUDIOLDM_LICENCE.name}), ${AUDIOLDM_LICENCE.url}\n` +
    'Non-commercial use only. If you share these files or anything derived from them, keep this notice, credit the ' +
    'authors, say what you changed and share under the same licence.\n' +
    'The original release states the models were trained on AudioSet, Freesound and BBC Sound Effects data under ' +
    'the UK copyright exception for academic research.\n' +
    `Changes: converted from the diffusers checkpoint to ONNX (opset 17) by Tessera's TypeScript converter ${CONVERTER_VERSION}: ` +
    'CLAP text branch with L2 normalisation of its output; UNet called with class_labels (no cross-attention context); ' +
    `VAE decoder with the division by the scaling factor built in; HiFi-GAN vocoder with weight norm folded. ${s.headsNote}\n` +
    'This notice is not legal advice.\n'
  );
}

/** The manifest draft of a converted pack (file hashes are filled in when it is written). */
export function audioLdmManifestDraft(c: AudioLdmConfigs, s: ConversionSource): AudioLdmManifestDraft {
  checkConfigsFit(c);
  const f32 = 'float32' as const;
  const i64 = 'int64' as const;
  const vaeScale = 2 ** (c.vae.blockOutChannels.length - 1);
  const melBins = c.vocoder.modelInDim;
  const latentBins = melBins / vaeScale;
  const latentChannels = c.vae.latentChannels;
  const hop = c.vocoder.upsampleRates.reduce((a, b) => a * b, 1);
  const sampleRate = c.vocoder.samplingRate;
  const textDim = c.textEncoder.projectionDim;
  // RoBERTa reads at most max_position_embeddings − 2 tokens (its positions start after padding_idx).
  const maxLength = Math.min(s.tokenizer.maxLength, c.textEncoder.maxPositionEmbeddings - 2);
  const component = (name: AudioLdmComponentName, io: Pick<AudioLdmManifestDraft['components']['unet'], 'inputs' | 'outputs'>) => {
    const external = s.externalData?.[name];
    return { file: GRAPH_FILES[name], ...(external && external.length > 0 ? { externalData: external.map((file) => ({ file })) } : {}), ...io };
  };
  const licence = licenceText(s);
  const revision = s.revision ? s.revision.replace(/[^0-9A-Za-z.-]/g, '-').slice(0, 12) : 'local';
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    id: s.id,
    name: s.name,
    version: `${CONVERTER_VERSION}+${revision}`,
    family: 'audioldm',
    description:
      `${displayName(s.source)} text-to-audio latent diffusion model, converted from ${s.source}${s.revision ? ` (revision ${s.revision})` : ''} ` +
      `by Tessera's converter ${CONVERTER_VERSION}. ${sampleRate / 1000} kHz mono; trained on 10.24 s clips. ${s.headsNote}`,
    demo: false,
    licence: { name: AUDIOLDM_LICENCE.name, url: AUDIOLDM_LICENCE.url, text: licence },
    audio: { sampleRate, channels: 1 },
    latent: {
      channels: latentChannels,
      frequencyBins: latentBins,
      framesPerSecond: sampleRate / hop / vaeScale,
      timeMultiple: 2 ** (c.unet.blockOutChannels.length - 1),
      nativeWindowFrames: NATIVE_WINDOW_FRAMES,
    },
    mel: { bins: melBins, hop, framesPerLatentFrame: vaeScale, vocoderExtraSamples: vocoderExtraSamples(c.vocoder, hop) },
    textEmbedDim: textDim,
    vaeScalingFactor: c.vae.scalingFactor,
    scheduler: c.scheduler,
    defaults: { ...AUDIOLDM_DEFAULTS },
    tokenizer: { file: TOKENIZER_FILE, maxLength, padId: s.tokenizer.padId, unkId: s.tokenizer.unkId },
    components: {
      textEncoder: component('textEncoder', {
        inputs: [
          { name: 'input_ids', type: i64, dims: ['B', 'S'] },
          { name: 'attention_mask', type: i64, dims: ['B', 'S'] },
        ],
        outputs: [{ name: 'text_embeds', type: f32, dims: ['B', textDim] }],
      }),
      unet: component('unet', {
        inputs: [
          { name: 'sample', type: f32, dims: ['N', latentChannels, 'T', latentBins] },
          { name: 'timestep', type: f32, dims: ['N'] },
          { name: 'class_labels', type: f32, dims: ['N', textDim] },
        ],
        outputs: [{ name: 'noise_pred', type: f32, dims: ['N', latentChannels, 'T', latentBins] }],
      }),
      vaeDecoder: component('vaeDecoder', {
        inputs: [{ name: 'latent', type: f32, dims: ['B', latentChannels, 'T', latentBins] }],
        outputs: [{ name: 'mel', type: f32, dims: ['B', 1, 'F', melBins] }],
      }),
      vocoder: component('vocoder', {
        inputs: [{ name: 'mel', type: f32, dims: ['B', 'F', melBins] }],
        outputs: [{ name: 'waveform', type: f32, dims: ['B', 'L'] }],
      }),
    },
    decode: { vaeHaloLatentFrames: vaeHaloLatentFrames(c.vae), vocoderHaloMelFrames: hifiGanHaloMelFrames(c.vocoder) },
  };
}
