/**
 * The `audioldm` family adapter: the contract of research/audioldm.md §3 over four injected sessions.
 * text_encoder (input_ids, attention_mask → text_embeds, L2-normalised), unet (sample, timestep, class_labels →
 * noise_pred), vae_decoder (latent → mel), vocoder (mel → waveform).
 */
import type { AudioLdmManifest } from '../../contract/manifest.ts';
import { InvalidRequestError } from '../errors.ts';
import { decodeChunked, decodePlanFor, vocodeChunked, vocodePlanFor } from '../longform/decode.ts';
import { decodeWithSharedStats, type SharedStatsLayer } from '../longform/vae-shared-stats.ts';
import type { ModelSession } from '../runtime/session.ts';
import { createScheduler, type SamplerName, type SamplerOptions, type Scheduler } from '../schedulers/index.ts';
import { concatBatch, f32, i64, reshape, sliceBatch, type F32, type Tensor } from '../tensor/tensor.ts';
import { encodeLimited, truncationsOf } from './tokens.ts';
import { framesCeil, type DecodeAudioOptions, type DecodedAudio, type EncodedConditions, type LatentDiffusionModel, type LatentGeometry, type PromptTokenizer, type TruncatedPrompt } from './model.ts';

export type { PromptTokenizer } from './model.ts';

/** The four sessions of an audioldm pack. */
export interface AudioLdmSessions {
  textEncoder: ModelSession;
  unet: ModelSession;
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

/**
 * The VAE decoder rewritten so every GroupNorm takes its statistics as inputs (shared-statistics decoding,
 * research/longform.md §5.2), or why the model has none.
 */
export type SharedStatsDecoder = { session: ModelSession; layers: readonly SharedStatsLayer[] } | { unavailable: string };

/** A loaded audioldm-family model. Holds sessions; the host owns their lifetime. */
export class AudioLdmModel implements LatentDiffusionModel {
  constructor(
    readonly manifest: AudioLdmManifest,
    readonly sessions: AudioLdmSessions,
    private readonly tokenizer: PromptTokenizer,
    /** Present when the host opened the model for shared-statistics decoding. */
    readonly sharedStatsDecoder?: SharedStatsDecoder,
  ) {}

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

  /** Latent tensor dims for T latent frames and a batch. */
  latentDims(frames: number, batch = 1): number[] {
    return [batch, this.manifest.latent.channels, frames, this.manifest.latent.frequencyBins];
  }

  /** Encodes prompts in one batch, padded only to the longest prompt (padding is inert, §3.1). */
  async encodePrompts(prompts: readonly string[]): Promise<EncodedPrompts> {
    const { maxLength, padId, unkId } = this.manifest.tokenizer;
    const limited = prompts.map((p) => encodeLimited(this.tokenizer, p, maxLength, true));
    const ids = limited.map((l) => l.ids);
    const truncated = truncationsOf(prompts, limited.map((l) => l.dropped), maxLength);
    const width = Math.max(...ids.map((r) => r.length));
    const flat: number[] = [];
    const mask: number[] = [];
    for (const row of ids) {
      for (let i = 0; i < width; i++) {
        flat.push(i < row.length ? row[i] : padId);
        mask.push(i < row.length ? 1 : 0);
      }
    }
    const unknownWords: string[] = [];
    if (unkId !== undefined) {
      prompts.forEach((p, r) => {
        const words = p.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
        const tokens = this.tokenizer.tokens(p);
        ids[r].forEach((id, i) => {
          if (id !== unkId) return;
          // Token i of the row (after the start token) corresponds to word i − 1 for whole-word vocabularies;
          // fall back to the token text for subword tokenizers.
          const word = words[i - 1] ?? tokens[i] ?? '?';
          if (!unknownWords.includes(word)) unknownWords.push(word);
        });
      });
    }
    const out = await this.sessions.textEncoder.run({
      input_ids: i64(flat, [prompts.length, width]),
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
   * in chunks (research/longform.md §5–§6). Seams are the chunk joins, in seconds.
   */
  async decodeAudio(latent: F32, options: DecodeAudioOptions): Promise<DecodedAudio> {
    const { manifest } = this;
    const onChunk = (stage: 'decode' | 'vocode') => (chunk: number, chunks: number) => options.onProgress?.({ stage, chunk, chunks });
    const mel = await this.decodeLatent(latent, options.vaeDecode, { signal: options.signal, onChunk: onChunk('decode') });
    const onAudio = options.onAudio;
    // The vocoder stage starts now (0 chunks done): the pipeline splits its decode and vocode timings here.
    options.onProgress?.({ stage: 'vocode', chunk: 0, chunks: vocodePlanFor(manifest, mel.dims[2]).length });
    const wave = await vocodeChunked(this, mel, {
      signal: options.signal,
      onChunk: onChunk('vocode'),
      ...(onAudio ? { onAudio: (start: number, samples: Float32Array) => onAudio(start, [samples]) } : {}),
    });
    const frames = latent.dims[2];
    const fps = manifest.latent.framesPerSecond;
    return {
      channels: [wave],
      seams: {
        decode: decodePlanFor(manifest, frames).chunks.slice(1).map((c) => c.keepStart / fps),
        vocode: vocodePlanFor(manifest, mel.dims[2]).slice(1).map((c) => (c.keepStart * manifest.mel.hop) / manifest.audio.sampleRate),
      },
    };
  }

  /** VAE decoding in the requested mode (see the pipeline's `vaeDecode`). */
  private async decodeLatent(latent: F32, mode: DecodeAudioOptions['vaeDecode'], options: { signal?: AbortSignal; onChunk: (done: number, total: number) => void }): Promise<F32> {
    const shared = this.sharedStatsDecoder;
    if (mode === 'window' || (shared && 'unavailable' in shared)) {
      // A decoder without GroupNorm has no per-chunk statistics to disagree about: window decoding is already exact.
      return decodeChunked(this, latent, options);
    }
    if (!shared) {
      throw new InvalidRequestError('vaeDecode', mode, "shared-statistics decoding needs the model opened with it (the host's sharedStatsDecoder option)");
    }
    const { manifest } = this;
    return decodeWithSharedStats(shared.session, shared.layers, latent, {
      core: manifest.latent.nativeWindowFrames,
      halo: manifest.decode.vaeHaloLatentFrames,
      signal: options.signal,
      onProgress: options.onChunk,
    });
  }

  /** Where the UNet runs. */
  get device(): { provider: string; fallbackReason?: string } {
    const { provider, fallbackReason } = this.sessions.unet;
    return fallbackReason === undefined ? { provider } : { provider, fallbackReason };
  }

  /**
   * Guided noise prediction for a batch of latents at timestep t. With guidance g > 1 the UNet runs once on
   * [uncond rows, cond rows] and returns ε_u + g·(ε_c − ε_u) (research/audioldm.md §4); otherwise only cond rows.
   * `uncond` and `cond` hold one embedding row per latent row.
   */
  async predictNoise(sample: F32, timestep: number, cond: F32, uncond: F32, guidance: number): Promise<F32> {
    const rows = sample.dims[0];
    const useCfg = guidance > 1;
    const batch = useCfg ? concatBatch([sample, sample]) : sample;
    const labels = useCfg ? concatBatch([uncond, cond]) : cond;
    const eps = await this.runUnet(batch, timestep, labels);
    if (!useCfg) return eps;
    const u = sliceBatch(eps, 0, rows).data;
    const c = sliceBatch(eps, rows, 2 * rows).data;
    const guided = new Float32Array(u.length);
    for (let i = 0; i < u.length; i++) guided[i] = u[i] + guidance * (c[i] - u[i]);
    return f32(guided, sample.dims);
  }

  /** One UNet call: sample [N, C, T, Fq] at one timestep with labels [N, D] → ε [N, C, T, Fq]. */
  async runUnet(sample: F32, timestep: number, labels: F32): Promise<F32> {
    const n = sample.dims[0];
    const out = await this.sessions.unet.run({ sample, timestep: f32(new Float32Array(n).fill(timestep), [n]), class_labels: labels });
    return asF32(out.noise_pred, 'noise_pred');
  }

  /** VAE decode: latent [B, C, T, Fq] → mel [B, 1, 4T, mels]. The scaling factor is inside the graph. */
  async decode(latent: F32): Promise<F32> {
    const out = await this.sessions.vaeDecoder.run({ latent });
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
    const extra = this.sharedStatsDecoder && 'session' in this.sharedStatsDecoder ? [this.sharedStatsDecoder.session] : [];
    await Promise.all([...Object.values(this.sessions), ...extra].map((s: ModelSession) => s.dispose()));
  }
}

function asF32(t: Tensor | undefined, name: string): F32 {
  if (!t || t.type !== 'float32') throw new Error(`model output '${name}' is ${t ? t.type : 'missing'}, expected float32`);
  return t as F32;
}
