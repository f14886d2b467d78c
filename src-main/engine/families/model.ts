/**
 * The seam between the long-form pipeline and a model family (ARCHITECTURE.md §3–§4). The pipeline plans windows,
 * weights regions, fuses window predictions, takes one global scheduler step, reports progress, honours cancel and
 * draws every random number from the request's seed; a family only says how its latent is shaped along time, how
 * text becomes conditioning rows, what its denoiser predicts for a batch of windows, which samplers fit its
 * schedule, and how a latent becomes audio channels. Both `audioldm` and `stable-audio-3` implement it.
 *
 * Latents are [1, C, T, Fq] everywhere in the pipeline: T frames along time, C channels, Fq frequency bins
 * (AudioLDM: 8 × T × 16; Stable Audio 3: 256 × T × 1, i.e. its [1, 256, T] with a unit bin axis).
 */
import type { SamplerName, VaeDecodeMode } from '../../contract/generation-settings.ts';
import type { Manifest } from '../../contract/manifest.ts';
import type { ConditionContext, GuidanceRule } from '../longform/guidance.ts';
import type { SamplerOptions, Scheduler } from '../schedulers/index.ts';
import type { F32 } from '../tensor/tensor.ts';

/** Turns text into token ids (the pack's tokenizer.json, loaded by the host). */
export interface PromptTokenizer {
  /**
   * Token ids; with the tokenizer's special tokens (its post-processor: `<s>` … `</s>` for RoBERTa) unless
   * `addSpecialTokens` is false.
   */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  /** The token strings for `ids` (used to report words the model does not know). */
  tokens(text: string): string[];
}

/** A latent's shape along the axes the pipeline tiles and copies. */
export interface LatentGeometry {
  /** C. */
  channels: number;
  /** Fq (1 for models whose latent is [1, C, T]). */
  bins: number;
  /** Latent frames per second of audio. */
  framesPerSecond: number;
  /** W: frames of the denoiser's training window; longer pieces are tiled. */
  nativeWindowFrames: number;
}

/** What a truncation cost a prompt: reported to the user, as diffusers logs it. */
export interface TruncatedPrompt {
  prompt: string;
  /** Tokens the model reads at most (special tokens included). */
  maxTokens: number;
  /** Text tokens that were cut. */
  droppedTokens: number;
}

/** Conditioning rows for a list of texts, and the words the vocabulary lacks. */
export interface EncodedConditions {
  /** [n, D]: one flat row per text, in order; the denoiser receives these rows as its `conditions`. */
  rows: F32;
  /** Prompt words that became the unknown token, in order of appearance, without repeats. */
  unknownWords: string[];
  /** Texts longer than the model reads: cut to its token limit (special tokens kept), as the reference does. */
  truncated: TruncatedPrompt[];
}

/** Progress of a family's decoding: chunks done out of the stage's chunks. */
export interface DecodeProgress {
  stage: 'decode' | 'vocode';
  chunk: number;
  chunks: number;
}

/** Options of {@link LatentDiffusionModel.decodeAudio}. */
export interface DecodeAudioOptions {
  signal?: AbortSignal;
  vaeDecode: VaeDecodeMode;
  /** Samples per channel the caller keeps; a family may stop decoding (and allocating) past them. Default: all. */
  samples?: number;
  onProgress?: (p: DecodeProgress) => void;
  /**
   * Finished audio while decoding, chunk by chunk: `start` is the first sample in the output, `channels` holds one
   * view per audio channel that stays valid (the output is never rewritten). For previews.
   */
  onAudio?: (start: number, channels: Float32Array[]) => void;
}

/** Where the rows of a denoiser batch lie: the piece, and each row's first latent frame in it. */
export interface WindowRows {
  piece: ConditionContext;
  /** One start frame per sample row (rows of one window × condition job share it). */
  starts: readonly number[];
}

/** Decoded audio before trimming, and where chunk joins could leave seams (seconds). */
export interface DecodedAudio {
  /** One array per channel (1 mono, 2 stereo), all of one length, at least `samples` (when given) long. */
  channels: Float32Array[];
  seams: { decode: number[]; vocode: number[] };
  /** How the latent was decoded (families with one decoder mode omit it): the mode used, and why not the one asked for. */
  vaeDecode?: { used: VaeDecodeMode; fallbackReason?: string };
}

/** A loaded latent-diffusion model of any family. Holds sessions; the host owns their lifetime. */
export interface LatentDiffusionModel {
  readonly manifest: Manifest;
  readonly geometry: LatentGeometry;
  /** The sampler for a request (throws a RangeError when the sampler cannot walk this model's schedule). */
  createScheduler(sampler: SamplerName, steps: number, options: SamplerOptions): Scheduler;
  /** Latent frames generated for `seconds` of audio (the family's length rule). */
  latentFramesFor(seconds: number): number;
  /** Output samples per channel for `seconds`: round(seconds · sampleRate). */
  samplesFor(seconds: number): number;
  /** Encodes texts into conditioning rows (for the piece described by `context`). */
  encodeConditions(texts: readonly string[], context: ConditionContext): Promise<EncodedConditions>;
  /**
   * The unconditional rows of classifier-free guidance for negative prompts ('' = none), when the family's
   * reference does not simply encode them like prompts (stable-audio-3: an all-zero cross-attention input). Absent:
   * negative prompts are encoded with {@link encodeConditions}. Called only when some condition is guided.
   */
  encodeNegatives?(texts: readonly string[], context: ConditionContext): Promise<EncodedConditions>;
  /** How guided evaluations combine (absent: plain CFG on the output, longform/guidance.ts `outputSpaceGuidance`). */
  readonly guidance?: GuidanceRule;
  /** VAE decoding when a request names none (absent: `window`); audioldm: `estimated` where its decoder allows it. */
  readonly defaultVaeDecode?: VaeDecodeMode;
  /**
   * The denoiser on a batch of windows: sample [R, C, W, Fq] at one model-facing timestep, one conditioning row
   * per sample row ([R, D]) → the model output [R, C, W, Fq] (ε for audioldm, the velocity v for stable-audio-3).
   * `rows` says where each row's window lies (families that mask frames past the piece's end need it).
   */
  predict(sample: F32, timestep: number, conditions: F32, rows: WindowRows): Promise<F32>;
  /** Decodes a latent [1, C, T, Fq] to audio channels of at least samplesFor(T / fps) samples. */
  decodeAudio(latent: F32, options: DecodeAudioOptions): Promise<DecodedAudio>;
  /** Where the denoiser runs, in which precision (fp32, fp16, int8), and why a preferred provider was not used. */
  readonly device: { provider: string; precision?: string; fallbackReason?: string };
  /** Seconds spent inside ONNX Runtime across the model's sessions. */
  runtimeSeconds(): number;
  /** Releases all sessions. */
  dispose(): Promise<void>;
}

/** Rounds `seconds · fps / multiple` up to whole multiples of `multiple` frames (at least one multiple). */
export function framesCeil(seconds: number, framesPerSecond: number, multiple: number): number {
  // Round the quotient to 9 decimals first so 10.24 / 0.32 is 32, not 32.000000000000004.
  const blocks = Math.ceil(Number(((seconds * framesPerSecond) / multiple).toFixed(9)));
  return multiple * Math.max(1, blocks);
}
