/**
 * Model pack manifest: the schema every pack folder's `manifest.json` must satisfy (ARCHITECTURE.md §3).
 * Validated with valibot at every boundary where a manifest enters the program.
 */
import * as v from 'valibot';
import { FAMILY_SETTINGS, limitSchema, LIMITS } from './generation-settings.ts';
import { CodedError } from './errors.ts';

/** Current manifest schema version. */
export const MANIFEST_SCHEMA_VERSION = 1;

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const finitePositive = v.pipe(v.number(), v.finite(), v.gtValue(0));
const sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256)'));
const fileName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9._-]+$/, 'must be a plain file name inside the pack folder (no slashes)'),
  v.check((s) => s !== '.' && s !== '..', 'must be a plain file name'),
);

/** One graph input or output: name, element type and dims (numbers fixed, strings symbolic). */
export const TensorSpecSchema = v.strictObject({
  name: v.pipe(v.string(), v.minLength(1)),
  type: v.picklist(['float32', 'int64', 'int32', 'bool']),
  dims: v.array(v.union([positiveInt, v.pipe(v.string(), v.minLength(1))])),
});

/** A file of the pack with its sha256. */
export const PackFileSchema = v.strictObject({ file: fileName, sha256 });

/** One ONNX graph of the pack. */
export const ComponentSchema = v.strictObject({
  file: fileName,
  sha256,
  /**
   * Files holding the graph's external weights (ONNX external data: graphs over 2 GB, sharded bundles), each with
   * its sha256. Every location the graph references must be listed: loading refuses a graph that reads an unlisted
   * file, so no byte a session reads goes unverified.
   */
  externalData: v.optional(v.pipe(v.array(PackFileSchema), v.minLength(1))),
  inputs: v.pipe(v.array(TensorSpecSchema), v.minLength(1)),
  outputs: v.pipe(v.array(TensorSpecSchema), v.minLength(1)),
});

/** Noise schedule constants (research/audioldm.md §1, "Scheduler"). */
export const SchedulerConfigSchema = v.strictObject({
  trainTimesteps: positiveInt,
  betaStart: finitePositive,
  betaEnd: finitePositive,
  betaSchedule: v.picklist(['scaled_linear', 'linear']),
  predictionType: v.literal('epsilon'),
  timestepSpacing: v.picklist(['leading', 'linspace', 'trailing']),
  stepsOffset: nonNegativeInt,
  setAlphaToOne: v.boolean(),
});

/** The manifest of an `audioldm`-family pack. */
export const AudioLdmManifestSchema = v.strictObject({
  schemaVersion: v.literal(MANIFEST_SCHEMA_VERSION),
  id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits, ".", "_" or "-"')),
  name: v.pipe(v.string(), v.minLength(1)),
  version: v.pipe(v.string(), v.minLength(1)),
  family: v.literal('audioldm'),
  description: v.string(),
  /** True for packs whose weights are not trained (built-in demo and shape packs). */
  demo: v.boolean(),
  licence: v.strictObject({ name: v.string(), url: v.optional(v.string()), text: v.optional(v.string()) }),
  audio: v.strictObject({ sampleRate: positiveInt, channels: positiveInt }),
  latent: v.strictObject({
    channels: positiveInt,
    frequencyBins: positiveInt,
    /** Latent frames per second of audio (AudioLDM: 25). */
    framesPerSecond: finitePositive,
    /** The UNet needs T to be a multiple of this (AudioLDM: 8, three stride-2 downsamplings). */
    timeMultiple: positiveInt,
    /** Frames of the training window (AudioLDM: 256 = 10.24 s). */
    nativeWindowFrames: positiveInt,
  }),
  mel: v.strictObject({
    bins: positiveInt,
    /** Waveform samples per mel frame (AudioLDM: 160). */
    hop: positiveInt,
    /** Mel frames per latent frame (AudioLDM: 4). */
    framesPerLatentFrame: positiveInt,
    /** Vocoder output samples = hop·F + this (AudioLDM HiFi-GAN: 32). */
    vocoderExtraSamples: nonNegativeInt,
  }),
  textEmbedDim: positiveInt,
  /** Baked into the VAE graph; recorded for reference (research/audioldm.md §1). */
  vaeScalingFactor: finitePositive,
  scheduler: SchedulerConfigSchema,
  defaults: v.strictObject({
    steps: limitSchema(LIMITS.steps),
    guidance: limitSchema(LIMITS.guidance),
    sampler: v.picklist(FAMILY_SETTINGS.audioldm.samplers),
    eta: limitSchema(LIMITS.eta),
  }),
  tokenizer: v.strictObject({
    file: fileName,
    sha256,
    maxLength: positiveInt,
    padId: nonNegativeInt,
    /** Token id produced for words outside the vocabulary, if the tokenizer has one. */
    unkId: v.optional(nonNegativeInt),
  }),
  components: v.strictObject({
    textEncoder: ComponentSchema,
    unet: ComponentSchema,
    vaeDecoder: ComponentSchema,
    vocoder: ComponentSchema,
  }),
  /** Receptive-field halos for chunked decoding (research/longform.md §5–6). */
  decode: v.strictObject({ vaeHaloLatentFrames: nonNegativeInt, vocoderHaloMelFrames: nonNegativeInt }),
});

/** A validated audioldm-family manifest. */
export type AudioLdmManifest = v.InferOutput<typeof AudioLdmManifestSchema>;
/** A graph's declared input or output. */
export type TensorSpec = v.InferOutput<typeof TensorSpecSchema>;
/** A graph entry of the manifest. */
export type ComponentSpec = v.InferOutput<typeof ComponentSchema>;
/** Names of the graphs an audioldm pack holds. */
export type AudioLdmComponentName = keyof AudioLdmManifest['components'];

/**
 * Rectified-flow noise levels on a LogSNR line (research/stableaudio.md §1 `sample_rf`, §3):
 * λ_i = linspace(logSnrStart, logSnrEnd, N+1), t_i = sigmoid(−λ_i), t_0 pinned to sigmaMax and t_N to 0.
 */
export const LogSnrScheduleSchema = v.strictObject({
  schedule: v.literal('logsnr-linear'),
  /** λ at the first step (SA3: −6.2, the LogSNRShift anchor; SAO-small: −6). */
  logSnrStart: v.pipe(v.number(), v.finite()),
  /** λ at the last step (SA3 and SAO-small: 2). */
  logSnrEnd: v.pipe(v.number(), v.finite()),
  /** Noise level of the first step and scale of the initial noise (1 for text-to-audio). */
  sigmaMax: v.pipe(v.number(), v.finite(), v.gtValue(0), v.maxValue(1)),
});

/**
 * The manifest of a `stable-audio-3`-family pack (research/stableaudio.md §3–§5): T5Gemma text encoder, number
 * conditioner, DiT over latents [1, 256, T] and a decoder to stereo audio [1, 2, samplesPerFrame·T].
 */
export const StableAudio3ManifestSchema = v.strictObject({
  schemaVersion: v.literal(MANIFEST_SCHEMA_VERSION),
  id: AudioLdmManifestSchema.entries.id,
  name: v.pipe(v.string(), v.minLength(1)),
  version: v.pipe(v.string(), v.minLength(1)),
  family: v.literal('stable-audio-3'),
  description: v.string(),
  /** True for packs whose weights are not trained (the built-in stand-in). */
  demo: v.boolean(),
  licence: AudioLdmManifestSchema.entries.licence,
  audio: v.strictObject({ sampleRate: positiveInt, channels: positiveInt }),
  latent: v.pipe(
    v.strictObject({
      /** Latent channels (SAME autoencoder: 256). */
      channels: positiveInt,
      /** Audio samples per latent frame (SAME: 4096). */
      samplesPerFrame: positiveInt,
      /** sampleRate / samplesPerFrame (44100 / 4096 = 10.7666015625, exact in binary). */
      framesPerSecond: finitePositive,
      /** The latent length must be a multiple of this (SAME-S: 2). */
      timeMultiple: positiveInt,
      /** Seconds generated past the request and trimmed (the reference pipeline's duration padding: 6). */
      headroomSeconds: v.pipe(v.number(), v.finite(), v.minValue(0)),
      /** Frames of one DiT window when tiling long pieces. */
      nativeWindowFrames: positiveInt,
    }),
    v.check((l) => l.nativeWindowFrames % l.timeMultiple === 0, 'nativeWindowFrames must be a multiple of timeMultiple'),
  ),
  text: v.strictObject({
    /** Width of the text encoder's hidden states and of every cross-attention token (T5Gemma-b: 768). */
    hiddenSize: positiveInt,
    /** Largest `seconds_total` the number conditioner was trained on (inputs are clamped to it). */
    maxSeconds: finitePositive,
    /**
     * The learned padding embedding (`padding_mode: "learned"`, SA3 conditioners.py): a JSON array of `hiddenSize`
     * floats that overwrites the text encoder's rows at padded positions (attention mask 0) of every prompt. Absent
     * when the text-encoder graph already returns it there (the lsb music bundle); the bgkb SFX DiT needs its own.
     */
    paddingEmbedding: v.optional(PackFileSchema),
  }),
  scheduler: LogSnrScheduleSchema,
  defaults: v.strictObject({
    steps: limitSchema(LIMITS.steps),
    /** ≤ 1: classifier-free guidance off (the post-trained SA3 models sample without it). */
    guidance: limitSchema(LIMITS.guidance),
    sampler: v.picklist(FAMILY_SETTINGS['stable-audio-3'].samplers),
  }),
  tokenizer: v.strictObject({
    file: fileName,
    sha256,
    /** Token ids are truncated or right-padded with `padId` to exactly this length (T5Gemma: 256, pad 0). */
    maxLength: positiveInt,
    padId: nonNegativeInt,
    /** Whether to apply tokenizer.json's post-processor (BOS/EOS); the SA3 ports add no special tokens. */
    addSpecialTokens: v.boolean(),
    unkId: v.optional(nonNegativeInt),
  }),
  components: v.strictObject({
    textEncoder: ComponentSchema,
    /** Absent when the DiT bakes the duration embedding in (the official ONNX export, research §4.5). */
    numberConditioner: v.optional(ComponentSchema),
    dit: ComponentSchema,
    decoder: ComponentSchema,
  }),
  /** Chunked decoding: latent frames per chunk core and of context per side (receptive field). */
  decode: v.strictObject({ chunkLatentFrames: positiveInt, haloLatentFrames: nonNegativeInt }),
});

/** Every file a manifest lists (tokenizer, graphs, their external data, extra files), each with its sha256. */
export function manifestFiles(manifest: Manifest): Array<{ file: string; sha256: string }> {
  const files: Array<{ file: string; sha256: string }> = [{ file: manifest.tokenizer.file, sha256: manifest.tokenizer.sha256 }];
  for (const c of Object.values(manifest.components) as Array<ComponentSpec | undefined>) {
    if (c) files.push({ file: c.file, sha256: c.sha256 }, ...(c.externalData ?? []));
  }
  if (manifest.family === 'stable-audio-3' && manifest.text.paddingEmbedding) files.push(manifest.text.paddingEmbedding);
  return files;
}

/**
 * A copy of a manifest draft with `sha256` set on every object that has a `file` field (graphs, their external
 * data, the tokenizer, extra files), from `hashOf(file, dottedPath)`, which throws for a file it does not know.
 */
export function withFileHashes(draft: unknown, hashOf: (file: string, path: string) => string): unknown {
  const visit = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => visit(item, `${path}.${i}`));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = visit(item, path ? `${path}.${key}` : key);
    if (typeof out.file === 'string') out.sha256 = hashOf(out.file, path);
    return out;
  };
  return visit(draft, '');
}

/** A validated stable-audio-3-family manifest. */
export type StableAudio3Manifest = v.InferOutput<typeof StableAudio3ManifestSchema>;
/** Names of the graphs a stable-audio-3 pack holds. */
export type StableAudio3ComponentName = keyof StableAudio3Manifest['components'];
/** A LogSNR rectified-flow schedule from a manifest. */
export type LogSnrScheduleConfig = v.InferOutput<typeof LogSnrScheduleSchema>;

/** Any manifest Tessera can load, discriminated by `family`. */
export const ManifestSchema = v.variant('family', [AudioLdmManifestSchema, StableAudio3ManifestSchema]);
export type Manifest = v.InferOutput<typeof ManifestSchema>;
/** Model families Tessera can load. */
export type ModelFamily = Manifest['family'];

/** Validates unknown JSON as a manifest; the error lists every problem with its dotted path. */
export function parseManifest(json: unknown, where: string): Manifest {
  const result = v.safeParse(ManifestSchema, json);
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => {
    const path = v.getDotPath(issue) ?? '(root)';
    const got = issue.received === 'undefined' ? 'missing' : `got ${issue.received}`;
    return `  - ${path}: ${issue.message} (${got})`;
  });
  throw new ManifestError(
    `${where}: manifest.json is not a valid Tessera model pack manifest:\n${problems.join('\n')}\n` +
      'Fix the listed fields, or re-export the pack with a current Tessera tool.',
  );
}

/** Raised when a manifest fails validation. */
export class ManifestError extends CodedError<'model-error'> {
  override name = 'ManifestError';
  constructor(message: string) {
    super('model-error', message);
  }
}
