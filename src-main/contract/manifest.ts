/**
 * Model pack manifest: the schema every pack folder's `manifest.json` must satisfy (ARCHITECTURE.md §3).
 * Validated with valibot at every boundary where a manifest enters the program.
 */
import * as v from 'valibot';

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
  type: v.picklist(['float32', 'int64', 'int32']),
  dims: v.array(v.union([positiveInt, v.pipe(v.string(), v.minLength(1))])),
});

/** One ONNX graph of the pack. */
export const ComponentSchema = v.strictObject({
  file: fileName,
  sha256,
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
    steps: v.pipe(positiveInt, v.maxValue(1000)),
    guidance: v.pipe(v.number(), v.finite(), v.minValue(0)),
    sampler: v.picklist(['ddim', 'dpmpp-2m']),
    eta: v.pipe(v.number(), v.finite(), v.minValue(0)),
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

/** Any manifest Tessera can load (more families join this union). */
export const ManifestSchema = AudioLdmManifestSchema;
export type Manifest = AudioLdmManifest;

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
export class ManifestError extends Error {
  override name = 'ManifestError';
}
