/**
 * Generation settings, defined once: the samplers, the long-form methods, VAE decode modes and window weights, each
 * model family's samplers and defaults, and the accepted range of every number a generation takes. Everything else
 * is built from this table: the project and request-file schemas (valibot), the pack manifest's defaults, the CLI's
 * flag parsing and help, the engine's request check and the studio's number fields. Change a limit here and every
 * boundary follows.
 */
import * as v from 'valibot';

/** Every sampler, in display order. */
export const SAMPLERS = ['ddim', 'dpmpp-2m', 'pingpong'] as const;
/** A sampler name. */
export type SamplerName = (typeof SAMPLERS)[number];

/** How a piece longer than the model's window is tiled (`auto`: SpotDiffusion beyond two windows). */
export const TILING_METHODS = ['multidiffusion', 'spotdiffusion', 'auto'] as const;
/** A tiling method. */
export type TilingMethod = (typeof TILING_METHODS)[number];

/**
 * How long latents are decoded: VAE windows with a log-mel crossfade (`window`), the same with GroupNorm statistics
 * estimated once and shared by every window (`estimated`: seamless, 2 chunked decodes), or with the piece's exact
 * statistics (`shared`: one chunked decode per GroupNorm layer).
 */
export const VAE_DECODE_MODES = ['window', 'shared', 'estimated'] as const;
/** A VAE decode mode. */
export type VaeDecodeMode = (typeof VAE_DECODE_MODES)[number];

/** MultiDiffusion window weights. */
export const WINDOW_WEIGHTS = ['tapered', 'uniform'] as const;
/** A window weighting. */
export type WindowWeights = (typeof WINDOW_WEIGHTS)[number];

/**
 * Execution providers ONNX Runtime can run a model on (which ones exist here is probed: CUDA, DirectML and CoreML by
 * their libraries and platform, WebGPU by opening an adapter in a child process; host/runtime-probe.ts).
 */
export const PROVIDERS = ['cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;
/** An execution provider. */
export type ExecutionProvider = (typeof PROVIDERS)[number];
/**
 * What a user may choose as a device: a provider, or `auto` (the platform's GPU provider when installed, else WebGPU
 * where it measured faster than the CPU on this machine, else the CPU).
 */
export const DEVICES = ['auto', ...PROVIDERS] as const;
/** A device choice. */
export type DevicePreference = (typeof DEVICES)[number];
/** `auto` uses WebGPU only where a reference workload ran at least this many times faster on it than on the CPU. */
export const WEBGPU_AUTO_SPEEDUP = 1.25;
/**
 * The denoiser's precision on a device: `auto` runs it in float16 where the device computes float16 natively (a WebGPU
 * adapter with shader-f16; normalisations stay float32), `fp32` keeps the pack's graph as it is, `int8` (CPU only, never
 * chosen by `auto`: it changes the sound slightly, ≈ 38 dB SNR on the golden UNet) runs the denoiser's Linear and Conv
 * layers in int8 with weights quantized per channel and activations per call (packs/graph/quantize.ts).
 */
export const PRECISIONS = ['auto', 'fp32', 'int8'] as const;
/** A precision choice. */
export type PrecisionPreference = (typeof PRECISIONS)[number];
/** The providers that run `int8` (ONNX Runtime's dynamic-quantization kernels are CPU kernels). */
export const INT8_PROVIDERS: readonly ExecutionProvider[] = ['cpu'];

/** Samplers of ε-prediction models over a DDPM ᾱ table. */
export const DDPM_SAMPLERS = ['ddim', 'dpmpp-2m'] as const satisfies readonly SamplerName[];
/** Samplers of rectified-flow models over a LogSNR schedule. */
export const FLOW_SAMPLERS = ['pingpong'] as const satisfies readonly SamplerName[];

/** What each model family runs: its samplers (the default first) and whether `vaeDecode` `shared` and `estimated` apply. */
export const FAMILY_SETTINGS = {
  audioldm: { samplers: DDPM_SAMPLERS, sharedStatsDecode: true },
  'stable-audio-3': { samplers: FLOW_SAMPLERS, sharedStatsDecode: false },
} as const satisfies Record<string, { samplers: readonly SamplerName[]; sharedStatsDecode: boolean }>;
/** A model family Tessera runs. */
export type ModelFamily = keyof typeof FAMILY_SETTINGS;

/** The samplers of `family` (its default first); undefined for a family Tessera does not know. */
export function familySamplers(family: string): readonly SamplerName[] | undefined {
  return Object.hasOwn(FAMILY_SETTINGS, family) ? FAMILY_SETTINGS[family as ModelFamily].samplers : undefined;
}

/** An accepted range. `exclusiveMin`: the minimum itself is refused. */
export interface NumberLimit {
  min: number;
  max: number;
  integer: boolean;
  exclusiveMin?: boolean;
  /** How the range reads in a message ("a whole number from 1 to 1000"). */
  expected: string;
  /** A valid value for messages ("e.g. 25"). */
  example: string;
}

const limit = (l: Omit<NumberLimit, 'integer'> & { integer?: boolean }): NumberLimit => ({ integer: false, ...l });

/** Every number a generation takes, with its range. */
export const LIMITS = {
  /** Denoising steps (the training schedule has 1000 timesteps). */
  steps: limit({ min: 1, max: 1000, integer: true, expected: 'a whole number from 1 to 1000', example: '25' }),
  /** Classifier-free guidance scale (≤ 1: guidance off). */
  guidance: limit({ min: 0, max: 100, expected: 'a number from 0 to 100 (≤ 1 disables guidance)', example: '2.5' }),
  /** DDIM η (its σ needs η ≤ 1: beyond, √(1 − ᾱ_prev − σ²) is not real). */
  eta: limit({ min: 0, max: 1, expected: 'a number from 0 to 1 (0 = deterministic DDIM)', example: '0' }),
  /** Crossfade between regions, seconds, centred on each boundary. */
  transition: limit({ min: 0, max: 600, expected: 'a number of seconds from 0 to 600', example: '2' }),
  /** The random seed of a take. */
  seed: limit({ min: 0, max: 2 ** 32 - 1, integer: true, expected: `an integer from 0 to ${2 ** 32 - 1}`, example: '42' }),
  /** Length of a piece, seconds (no upper end here: each caller has its cap, `GENERATION_DEFAULTS.maxSeconds` unless raised). */
  seconds: limit({ min: 0, exclusiveMin: true, max: Number.POSITIVE_INFINITY, expected: 'a number of seconds greater than 0', example: '8' }),
  /**
   * Where a piece starts on the project's timeline, seconds (a project is at most a day long): its latent frames'
   * noise is drawn by absolute frame, so the same seed gives the same noise at the same place.
   */
  start: limit({ min: 0, max: 86_400, expected: 'a number of seconds from 0 to 86400', example: '0' }),
  /** How far a variation departs from the take it varies: 1 is a fresh take, small values keep most of it. */
  strength: limit({ min: 0, exclusiveMin: true, max: 1, expected: 'a number in (0, 1] (1 = a fresh take)', example: '0.5' }),
  /**
   * RePaint resampling rounds of a generation in context: each step but the last is taken this many times, the
   * sample taken back to the step's level in between, so the free frames harmonise with the held ones (1 = none).
   */
  resampleRounds: limit({ min: 1, max: 10, integer: true, expected: 'a whole number from 1 to 10 (1 = no resampling)', example: '3' }),
  /** MultiDiffusion stride as a fraction of the window. */
  strideRatio: limit({ min: 0, exclusiveMin: true, max: 1, expected: 'a fraction of the window in (0, 1]', example: '0.5' }),
  /** Window evaluations per denoiser call. */
  windowBatch: limit({ min: 1, max: 256, integer: true, expected: 'a whole number from 1 to 256', example: '4' }),
  /** Final steps run as MultiDiffusion under SpotDiffusion. */
  finalMultiSteps: limit({ min: 0, max: 1000, integer: true, expected: 'a whole number from 0 to 1000', example: '0' }),
} as const satisfies Record<string, NumberLimit>;
/** The name of a limited number. */
export type LimitName = keyof typeof LIMITS;

/** Characters of one prompt (the models read far fewer tokens; a longer text is a mistake, not a prompt). */
export const MAX_PROMPT_CHARS = 4000;

/** Tiling options a request may set. */
export interface TilingOptions {
  strideRatio?: number;
  weights?: WindowWeights;
  windowBatch?: number;
  finalMultiSteps?: number;
  /**
   * Level-matched region joins (engine/longform/regions.ts JoinLevelMatch; default true): keeps the loudness of a
   * blend of prompts. Off gives the plain weighted mean of their predictions (the exact answer for data whose
   * prompts differ only in their mean, e.g. the sketch-gp oracle).
   */
  levelMatchJoins?: boolean;
}

/** Defaults of the settings no model decides. */
export const GENERATION_DEFAULTS = {
  transition: 2,
  method: 'auto' as TilingMethod,
  eta: 0,
  /** Longest accepted piece, seconds, unless the caller raises it (`--max-duration`). */
  maxSeconds: 20 * 60,
  tiling: { strideRatio: 0.5, weights: 'tapered', windowBatch: 4, finalMultiSteps: 0, levelMatchJoins: true } as Required<TilingOptions>,
  /**
   * VAE decoding of a model whose decoder has GroupNorm statistics to share (audioldm, opened by the host with the
   * rewritten decoder): seamless joins at 2 chunked decodes. Other decoders decode in windows (`window`), which is
   * exact for a decoder without GroupNorm (sketch).
   */
  vaeDecode: 'estimated' as VaeDecodeMode,
} as const;

/** True when `value` is a number inside `limit` (`max` overrides the table's upper end, e.g. a raised duration cap). */
export function withinLimit(limit: NumberLimit, value: unknown, max = limit.max): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (limit.integer && !Number.isInteger(value)) return false;
  if (limit.exclusiveMin === true ? value <= limit.min : value < limit.min) return false;
  return value <= max;
}

/** A valibot number schema of `limit` (valibot's own messages: "Invalid integer: Received 2.5"). */
export function limitSchema(limit: NumberLimit): v.GenericSchema<number> {
  const base = limit.integer ? v.pipe(v.number(), v.integer()) : v.pipe(v.number(), v.finite());
  return limit.exclusiveMin === true ? v.pipe(base, v.gtValue(limit.min), v.maxValue(limit.max)) : v.pipe(base, v.minValue(limit.min), v.maxValue(limit.max));
}
