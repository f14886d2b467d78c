/**
 * The `audioldm` family adapter: the contract of research/audioldm.md §3 over four injected sessions.
 * text_encoder (input_ids, attention_mask → text_embeds, L2-normalised), unet (sample, timestep, class_labels →
 * noise_pred), vae_decoder (latent → mel), vocoder (mel → waveform). Prompts are tokenized in prompts.ts; latents
 * become audio in decode.ts.
 */
import { GENERATION_DEFAULTS, type SamplerName, type VaeDecodeMode } from '../../../contract/generation-settings.ts';
import type { AudioLdmManifest } from '../../../contract/manifest.ts';
import type { ModelSession } from '../../runtime/session.ts';
import { createScheduler, type SamplerOptions, type Scheduler } from '../../schedulers/index.ts';
import { f32, i64, reshape, type F32, type Tensor } from '../../tensor/tensor.ts';
import { framesCeil, type DecodeAudioOptions, type DecodedAudio, type EncodedConditions, type LatentDiffusionModel, type LatentGeometry, type PromptTokenizer, type TruncatedPrompt } from '../model.ts';
import { ownStatsFeeds } from '../../longform/vae-shared-stats.ts';
import { decodeAudioLdm, type SharedStatsDecoder } from './decode.ts';
import { tokenizePrompts } from './prompts.ts';

export type { PromptTokenizer } from '../model.ts';
export type { SharedStatsDecoder } from './decode.ts';

/** The four sessions of an audioldm pack. */
export interface AudioLdmSessions {
  textEncoder: ModelSession;
  unet: ModelSession;
  /** The VAE decoder, or its shared-statistics rewrite (the same session as the model's `sharedStatsDecoder`), run as the original. */
  vaeDecoder: ModelSession;
  vocoder: ModelSession;
}

/** Prompt embeddings and what the tokenizer could not map. */
export interface EncodedPrompts {
  /** [n, textEmbedDim], one row per prompt in order. */
  embeds: F32;
  /** Words of the prompts that became the unknown token, in order of appearance, without repeats. */
  unknownWords: string[];
  /** Prompts longer than the tokenizer's limit, cut keeping their special tokens (as diffusers does). */
  truncated: TruncatedPrompt[];
}

/** A loaded audioldm-family model. Holds sessions; the host owns their lifetime. */
export class AudioLdmModel implements LatentDiffusionModel {
  constructor(
    readonly manifest: AudioLdmManifest,
    readonly sessions: AudioLdmSessions,
    private readonly tokenizer: PromptTokenizer,
    /** Present when the host opened the model for shared-statistics decoding. */
    readonly sharedStatsDecoder?: SharedStatsDecoder,
  ) {}

  /** `estimated` when the VAE has GroupNorm statistics to share and the host opened the rewrite, else `window`. */
  get defaultVaeDecode(): VaeDecodeMode {
    return this.sharedStatsDecoder && 'session' in this.sharedStatsDecoder ? GENERATION_DEFAULTS.vaeDecode : 'window';
  }

  /** Latent [1, 8, T, 16] along time. */
  get geometry(): LatentGeometry {
    const { channels, frequencyBins, framesPerSecond, nativeWindowFrames } = this.manifest.latent;
    return { channels, bins: frequencyBins, framesPerSecond, nativeWindowFrames };
  }

  /** DDIM or DPM-Solver++ over the pack's DDPM schedule. */
  createScheduler(sampler: SamplerName, steps: number, options: SamplerOptions): Scheduler {
    return createScheduler(sampler, this.manifest.scheduler, steps, options);
  }

  /** Latent frames for `seconds`: T_lat = 8·ceil(seconds / 0.32) (research/audioldm.md §2, "Recommended"). */
  latentFramesFor(seconds: number): number {
    const { timeMultiple, framesPerSecond } = this.manifest.latent;
    return framesCeil(seconds, framesPerSecond, timeMultiple);
  }

  /** Output samples for `seconds`: round(seconds · sampleRate). */
  samplesFor(seconds: number): number {
    return Math.round(seconds * this.manifest.audio.sampleRate);
  }

  /** Encodes prompts in one batch, padded only to the longest prompt (padding is inert, §3.1). */
  async encodePrompts(prompts: readonly string[]): Promise<EncodedPrompts> {
    const { ids, mask, width, unknownWords, truncated } = tokenizePrompts(this.tokenizer, prompts, this.manifest.tokenizer);
    const out = await this.sessions.textEncoder.run({
      input_ids: i64(ids, [prompts.length, width]),
      attention_mask: i64(mask, [prompts.length, width]),
    });
    return { embeds: asF32(out.text_embeds, 'text_embeds'), unknownWords, truncated };
  }

  /** Conditioning rows: one CLAP text embedding per text (the UNet's `class_labels`). */
  async encodeConditions(texts: readonly string[]): Promise<EncodedConditions> {
    const { embeds, unknownWords, truncated } = await this.encodePrompts(texts);
    return { rows: embeds, unknownWords, truncated };
  }

  /** The UNet's ε for a batch of windows (see {@link runUnet}). */
  predict(sample: F32, timestep: number, conditions: F32): Promise<F32> {
    return this.runUnet(sample, timestep, conditions);
  }

  /**
   * Latent → mono audio: VAE decoding in chunks (or with the piece's shared GroupNorm statistics), then the vocoder
   * in chunks (decode.ts). Seams are the chunk joins, in seconds.
   */
  decodeAudio(latent: F32, options: DecodeAudioOptions): Promise<DecodedAudio> {
    const decoders = { decode: (l: F32) => this.decode(l), vocode: (mel: F32, offset: number) => this.vocode(mel, offset) };
    return decodeAudioLdm(this.manifest, this.sharedStatsDecoder ? { ...decoders, sharedStats: this.sharedStatsDecoder } : decoders, latent, options);
  }

  /** Where the UNet runs. */
  get device(): { provider: string; precision: string; fallbackReason?: string } {
    const { provider, precision, fallbackReason } = this.sessions.unet;
    return fallbackReason === undefined ? { provider, precision } : { provider, precision, fallbackReason };
  }

  /** One UNet call: sample [N, C, T, Fq] at one timestep with labels [N, D] → ε [N, C, T, Fq]. */
  async runUnet(sample: F32, timestep: number, labels: F32): Promise<F32> {
    const n = sample.dims[0];
    const out = await this.sessions.unet.run({ sample, timestep: f32(new Float32Array(n).fill(timestep), [n]), class_labels: labels });
    return asF32(out.noise_pred, 'noise_pred');
  }

  /**
   * VAE decode: latent [B, C, T, Fq] → mel [B, 1, 4T, mels]. The scaling factor is inside the graph. When the host
   * opened only the shared-statistics rewrite, it runs with every GroupNorm on its own statistics (the original).
   */
  async decode(latent: F32): Promise<F32> {
    const session = this.sessions.vaeDecoder;
    const rewritten = this.sharedStatsDecoder && 'session' in this.sharedStatsDecoder && this.sharedStatsDecoder.session === session ? this.sharedStatsDecoder : undefined;
    const out = await session.run(rewritten ? ownStatsFeeds('latent', latent, rewritten.layers) : { latent });
    return asF32(out.mel, 'mel');
  }

  /**
   * Vocoder: mel [B, 1, F, mels] → waveform [B, hop·F + extra]. `sampleOffset` is the absolute index of the first
   * output sample; it reaches graphs that declare the optional `sample_offset` input (position-dependent synthesis,
   * e.g. the sketch pack) and is irrelevant to convolutional vocoders such as HiFi-GAN.
   */
  async vocode(mel: F32, sampleOffset = 0): Promise<F32> {
    const [b, , frames, bins] = mel.dims;
    const feeds: Record<string, Tensor> = { mel: reshape(mel, [b, frames, bins]) };
    if (this.vocoderTakesOffset) feeds.sample_offset = i64(new Array<number>(b).fill(sampleOffset), [b]);
    const out = await this.sessions.vocoder.run(feeds);
    return asF32(out.waveform, 'waveform');
  }

  /** Whether the vocoder declares the optional `sample_offset` input. */
  get vocoderTakesOffset(): boolean {
    return this.sessions.vocoder.signature.inputs.some((t) => t.name === 'sample_offset');
  }

  /** Seconds spent inside ONNX Runtime across the four sessions. */
  runtimeSeconds(): number {
    const s = this.sessions;
    return s.textEncoder.runSeconds() + s.unet.runSeconds() + s.vaeDecoder.runSeconds() + s.vocoder.runSeconds();
  }

  /** Releases all sessions. */
  async dispose(): Promise<void> {
    const shared = this.sharedStatsDecoder && 'session' in this.sharedStatsDecoder ? this.sharedStatsDecoder.session : undefined;
    const extra = shared && shared !== this.sessions.vaeDecoder ? [shared] : [];
    await Promise.all([...Object.values(this.sessions), ...extra].map((s: ModelSession) => s.dispose()));
  }
}

function asF32(t: Tensor | undefined, name: string): F32 {
  if (!t || t.type !== 'float32') throw new Error(`model output '${name}' is ${t ? t.type : 'missing'}, expected float32`);
  return t as F32;
}
