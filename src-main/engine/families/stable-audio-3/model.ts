/**
 * The `stable-audio-3` family adapter (research/stableaudio.md §3–§5) over injected sessions: a T5Gemma text
 * encoder, a number conditioner (seconds → duration token), a DiT over latents [1, 256, T] predicting the
 * rectified-flow velocity, and a decoder to 44.1 kHz stereo [1, 2, 4096·T]. Which tensor names each graph uses is
 * recognised from its inputs (contract.ts); conditioning is assembled per variant:
 * - community: cross_attn_cond = [text hidden states (256 tokens), duration token], global_embed = duration token;
 * - official: t5_hidden, t5_mask (float) and seconds_total go to the DiT, which embeds the duration itself.
 * One conditioning row per text holds those tensors flat, so the long-form tiler can batch windows × prompts.
 * Guidance is guidance.ts (APG); graph I/O checks are graph-io.ts.
 */
import type { SamplerName } from '../../../contract/generation-settings.ts';
import type { StableAudio3Manifest } from '../../../contract/manifest.ts';
import { InvalidRequestError, throwIfAborted } from '../../errors.ts';
import { planChunks } from '../../longform/chunks.ts';
import type { ConditionContext, GuidanceRule } from '../../longform/guidance.ts';
import type { ModelSession } from '../../runtime/session.ts';
import { createScheduler, type SamplerOptions, type Scheduler } from '../../schedulers/index.ts';
import { bools, f32, i64, type F32, type Tensor } from '../../tensor/tensor.ts';
import type { DecodeAudioOptions, DecodedAudio, EncodedConditions, LatentDiffusionModel, LatentGeometry, PromptTokenizer, WindowRows } from '../model.ts';
import { encodeLimited, truncationsOf } from '../tokens.ts';
import { detectContract, Sa3ContractError, type Sa3Contract } from './contract.ts';
import { describeTensor, expectF32, resolveDims, spec } from './graph-io.ts';
import { apgGuidance } from './guidance.ts';

/** The sessions of a stable-audio-3 pack (no number conditioner for the official contract). */
export interface StableAudio3Sessions {
  textEncoder: ModelSession;
  numberConditioner?: ModelSession;
  dit: ModelSession;
  decoder: ModelSession;
}

/** Token ids and attention mask of one prompt, exactly `maxLength` long. */
export interface Tokenized {
  ids: number[];
  mask: number[];
}

/** Scale of the official decoder's `pcm` output (int16 full scale, research §4.5). */
const PCM_SCALE = 32768;

/** A loaded stable-audio-3-family model. Holds sessions; the host owns their lifetime. */
export class StableAudio3Model implements LatentDiffusionModel {
  /** The contract variant of every graph, recognised from their input names. */
  readonly contract: Sa3Contract;

  /** Classifier-free guidance as the reference combines it (see {@link apgGuidance}). */
  readonly guidance: GuidanceRule = (input) => apgGuidance(input, this.attendedBefore(input.start, input.window, input.piece));

  constructor(
    readonly manifest: StableAudio3Manifest,
    readonly sessions: StableAudio3Sessions,
    private readonly tokenizer: PromptTokenizer,
    /** The learned padding embedding [hiddenSize] for padded token rows (manifest `text.paddingEmbedding`). */
    private readonly paddingEmbedding?: Float32Array,
  ) {
    const names = (s: ModelSession) => ({ inputs: s.signature.inputs.map((t) => t.name), outputs: s.signature.outputs.map((t) => t.name) });
    this.contract = detectContract(
      {
        textEncoder: names(sessions.textEncoder),
        ...(sessions.numberConditioner ? { numberConditioner: names(sessions.numberConditioner) } : {}),
        dit: names(sessions.dit),
        decoder: names(sessions.decoder),
      },
      (component) => `${manifest.id}/${component}`,
    );
    const H = manifest.text.hiddenSize;
    if (paddingEmbedding && paddingEmbedding.length !== H) {
      throw new RangeError(`${manifest.id}: the padding embedding has ${paddingEmbedding.length} values; the text encoder's hidden size is ${H}`);
    }
    if (paddingEmbedding && this.contract.dit.variant !== 'community') {
      throw new Sa3ContractError(`${manifest.id}: text.paddingEmbedding is set, but the official DiT applies its learned padding itself (t5_mask); remove the field from the manifest`);
    }
  }

  /** Latent [1, 256, T] as [1, 256, T, 1]. */
  get geometry(): LatentGeometry {
    const { channels, framesPerSecond, nativeWindowFrames } = this.manifest.latent;
    return { channels, bins: 1, framesPerSecond, nativeWindowFrames };
  }

  /** Ping-pong over the pack's LogSNR schedule. */
  createScheduler(sampler: SamplerName, steps: number, options: SamplerOptions): Scheduler {
    return createScheduler(sampler, this.manifest.scheduler, steps, options);
  }

  /**
   * The reference's length rule (SA3 model.py `_adapt_sample_size`): A = ⌊(seconds + headroom)·sr⌋ samples rounded
   * up to whole multiples of samplesPerFrame·timeMultiple, capped at one native window — so every piece up to the
   * window's own length (120 s for SA3 small) stays one window, its headroom shrinking to what is left. Longer
   * pieces keep their full headroom and are tiled. The headroom is trimmed after decoding.
   */
  latentFramesFor(seconds: number): number {
    const { samplesPerFrame: S, timeMultiple: m, headroomSeconds, nativeWindowFrames: W } = this.manifest.latent;
    const sr = this.manifest.audio.sampleRate;
    const frames = m * Math.max(1, Math.ceil(Math.trunc((seconds + headroomSeconds) * sr) / (S * m)));
    return frames > W && this.audioFrames(seconds) <= W ? W : frames;
  }

  /** Latent frames that hold the requested audio: ⌈⌊seconds·sr⌋ / S⌉ (SA3 data/utils.py effective length). */
  private audioFrames(seconds: number): number {
    return Math.ceil(Math.trunc(seconds * this.manifest.audio.sampleRate) / this.manifest.latent.samplesPerFrame);
  }

  /**
   * Frames the DiT may attend to (padding_mask true): the requested audio plus ⌊headroom·sr / S⌋ frames, at most
   * the piece (SA3 sampling.py with mask_padding_attention and headroom_seconds). Frames past it are masked; their
   * audio is trimmed.
   */
  validFrames(piece: ConditionContext): number {
    const { samplesPerFrame: S, headroomSeconds } = this.manifest.latent;
    const headroom = Math.trunc((headroomSeconds * this.manifest.audio.sampleRate) / S);
    return Math.min(piece.frames, this.audioFrames(piece.seconds) + headroom);
  }

  /**
   * The piece's frame from which a window starting at `start` (in the piece's frames) is masked: validFrames, or
   * none (Infinity) for a window that reaches past the piece's end. Only a canvas padded beyond the piece's ends
   * (longform/plan.ts, SpotDiffusion) has such windows, and its padding is content the tiler denoises and crops,
   * not silence past the request: a tiled window is conditioned on a full window's seconds (secondsTotalFor), so it
   * attends all of its frames, and the piece's last frames keep a full window of context as in the middle. Frames
   * before the piece (negative) are always attended.
   */
  private attendedBefore(start: number, window: number, piece: ConditionContext): number {
    return start + window > piece.frames ? Number.POSITIVE_INFINITY : this.validFrames(piece);
  }

  /** Output samples per channel for `seconds`: round(seconds · sampleRate). */
  samplesFor(seconds: number): number {
    return Math.round(seconds * this.manifest.audio.sampleRate);
  }

  /**
   * Token ids without special tokens unless the manifest asks for them, truncated or right-padded with the pad id
   * to exactly `maxLength`, and the mask of real tokens (research §4.2 "Tokenization", §5 step 2).
   */
  tokenize(text: string): Tokenized & { dropped: number } {
    const { maxLength, padId, addSpecialTokens } = this.manifest.tokenizer;
    const { ids: real, dropped } = encodeLimited(this.tokenizer, text, maxLength, addSpecialTokens);
    const ids = Array.from({ length: maxLength }, (_, i) => (i < real.length ? real[i] : padId));
    const mask = Array.from({ length: maxLength }, (_, i) => (i < real.length ? 1 : 0));
    return { ids, mask, dropped };
  }

  /**
   * seconds_total a window is conditioned on: the request's seconds when the piece is one window (the model then
   * fills its headroom with silence), else a full window's seconds, so no window fades out before its end
   * (research/longform.md §4, timing-conditioned models). Clamped to the conditioner's trained range.
   */
  secondsTotalFor(context: ConditionContext): number {
    const seconds = context.window < context.frames ? context.window / this.manifest.latent.framesPerSecond : context.seconds;
    return Math.min(this.manifest.text.maxSeconds, Math.max(0, seconds));
  }

  /**
   * One conditioning row per text. Community: [hidden states (L·H), duration token (H), duration token (H)] =
   * cross_attn_cond rows then global_embed; padded token rows carry the pack's learned padding embedding when it
   * has one (conditioners.py `apply_padding`: overwritten, not added). Official: [hidden states (L·H), mask (L),
   * seconds_total (1)].
   */
  async encodeConditions(texts: readonly string[], context: ConditionContext): Promise<EncodedConditions> {
    return this.encodeRows(texts, context, this.paddingEmbedding);
  }

  /**
   * The unconditional rows of guidance, as the reference builds them (SA3 dit.py `forward`, cfg_scale ≠ 1): without
   * a negative prompt the whole cross-attention input is zero — text rows and duration row alike — while
   * global_embed keeps the duration token; a negative prompt is encoded with its padded rows zero (not the padding
   * embedding) and keeps its duration row. The official export builds its conditioning inside the DiT, so it cannot
   * take that input: guidance is refused there.
   */
  async encodeNegatives(texts: readonly string[], context: ConditionContext): Promise<EncodedConditions> {
    if (this.contract.dit.variant !== 'community') {
      throw new InvalidRequestError(
        'guidance',
        '> 1',
        `model '${this.manifest.id}' is an official Stable Audio 3 ONNX export, whose DiT builds its text conditioning itself, so the reference's unconditional input (all-zero cross-attention) cannot be fed to it; guidance above 1 is not available for this pack. Use guidance 1 (its default: the post-trained models sample without guidance)`,
      );
    }
    const zero = new Float32Array(this.manifest.text.hiddenSize);
    const encoded = await this.encodeRows(texts, context, zero);
    const { maxLength: L } = this.manifest.tokenizer;
    const H = this.manifest.text.hiddenSize;
    const width = this.conditionWidth();
    texts.forEach((text, r) => {
      // No negative prompt: every cross-attention row (text and duration) is zero; global_embed stays.
      if (text === '') encoded.rows.data.fill(0, r * width, r * width + (L + 1) * H);
    });
    return encoded;
  }

  /** Conditioning rows with `padding` (when given) in the rows of padded tokens. */
  private async encodeRows(texts: readonly string[], context: ConditionContext, padding: Float32Array | undefined): Promise<EncodedConditions> {
    const { maxLength } = this.manifest.tokenizer;
    const H = this.manifest.text.hiddenSize;
    const seconds = this.secondsTotalFor(context);
    const duration = await this.durationToken(seconds);
    const width = this.conditionWidth();
    const rows = new Float32Array(texts.length * width);
    const dropped: number[] = [];
    for (let r = 0; r < texts.length; r++) {
      const { ids, mask, dropped: lost } = this.tokenize(texts[r]);
      dropped.push(lost);
      const out = await this.sessions.textEncoder.run({ input_ids: i64(ids, [1, maxLength]), attention_mask: i64(mask, [1, maxLength]) });
      const hidden = expectF32(out[this.contract.textEncoder.hidden], `${this.sessions.textEncoder.name}: ${this.contract.textEncoder.hidden}`, [1, maxLength, H]);
      const row = rows.subarray(r * width, (r + 1) * width);
      row.set(hidden.data, 0);
      if (padding) mask.forEach((m, i) => m === 0 && row.set(padding, i * H));
      if (duration) {
        row.set(duration, maxLength * H);
        row.set(duration, (maxLength + 1) * H);
      } else {
        row.set(mask, maxLength * H);
        row[maxLength * H + maxLength] = seconds;
      }
    }
    return { rows: f32(rows, [texts.length, width]), unknownWords: this.unknownWords(texts), truncated: truncationsOf(texts, dropped, maxLength) };
  }

  /** Floats in one conditioning row (see {@link encodeConditions}). */
  conditionWidth(): number {
    const L = this.manifest.tokenizer.maxLength;
    const H = this.manifest.text.hiddenSize;
    return this.contract.dit.variant === 'community' ? (L + 2) * H : L * H + L + 1;
  }

  /** The number conditioner's duration token [H] for `seconds` (community contract), else undefined. */
  private async durationToken(seconds: number): Promise<Float32Array | undefined> {
    const conditioner = this.sessions.numberConditioner;
    const names = this.contract.numberConditioner;
    if (!conditioner || !names) return undefined;
    const out = await conditioner.run({ [names.seconds]: f32(Float32Array.of(seconds), [1]) });
    return expectF32(out[names.embedding], `${conditioner.name}: ${names.embedding}`, [1, 1, this.manifest.text.hiddenSize]).data;
  }

  /** Words of the prompts the vocabulary maps to the unknown token (none for byte-fallback tokenizers). */
  private unknownWords(texts: readonly string[]): string[] {
    const { unkId } = this.manifest.tokenizer;
    if (unkId === undefined) return [];
    const found: string[] = [];
    for (const text of texts) {
      for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
        if (!found.includes(word) && this.tokenizer.encode(word, { addSpecialTokens: false }).includes(unkId)) found.push(word);
      }
    }
    return found;
  }

  /**
   * The DiT's velocity for windows [R, 256, W, 1] at noise level t with conditioning rows [R, D]. A DiT whose batch
   * dimension is fixed at 1 (as §4.2 lists it) runs once per row; a symbolic batch takes all rows in one call.
   * `rows.starts` are in the piece's frames; on a padded canvas they may be negative or reach past the piece's end
   * (padding_mask: {@link attendedBefore}).
   */
  async predict(sample: F32, timestep: number, conditions: F32, rows: WindowRows): Promise<F32> {
    const [R, C, W] = sample.dims;
    if (rows.starts.length !== R) throw new RangeError(`predict: ${rows.starts.length} window starts for ${R} sample rows`);
    const dit = this.sessions.dit;
    // Rows go in one call only when every batched input (rank ≥ 2) has a symbolic first dim.
    const batch = dit.signature.inputs.every((t) => t.dims.length < 2 || typeof t.dims[0] === 'string') ? R : 1;
    const out = new Float32Array(R * C * W);
    const D = conditions.dims[1];
    if (conditions.dims[0] !== R || D !== this.conditionWidth()) {
      throw new RangeError(`predict: conditions [${conditions.dims.join(', ')}] must be [${R}, ${this.conditionWidth()}] (one encodeConditions row per sample row)`);
    }
    for (let first = 0; first < R; first += batch) {
      const n = Math.min(batch, R - first);
      const mask = new Uint8Array(n * W);
      for (let r = 0; r < n; r++) {
        const start = rows.starts[first + r];
        const valid = this.attendedBefore(start, W, rows.piece);
        for (let f = 0; f < W; f++) mask[r * W + f] = start + f < valid ? 1 : 0;
      }
      const feeds = this.ditFeeds(sample.data.subarray(first * C * W, (first + n) * C * W), conditions.data.subarray(first * D, (first + n) * D), n, W, timestep, mask);
      const result = await dit.run(feeds);
      const v = expectF32(result[this.contract.dit.output], `${dit.name}: ${this.contract.dit.output}`, [n, C, W]);
      out.set(v.data, first * C * W);
    }
    return f32(out, [R, C, W, 1]);
  }

  /**
   * DiT feeds for n rows of windows W frames long (dims resolved against the graph's declared ones); `mask` [n·W]
   * is 1 where a frame may be attended (padding_mask; the official contract has none).
   */
  private ditFeeds(x: Float32Array, rows: Float32Array, n: number, W: number, t: number, mask: Uint8Array): Record<string, Tensor> {
    const dit = this.sessions.dit;
    const L = this.manifest.tokenizer.maxLength;
    const H = this.manifest.text.hiddenSize;
    const C = this.manifest.latent.channels;
    const D = this.conditionWidth();
    const dims = (name: string, shape: number[]): number[] => resolveDims(spec(dit, name), shape, n);
    const pick = (offset: number, size: number): Float32Array => {
      const out = new Float32Array(n * size);
      for (let r = 0; r < n; r++) out.set(rows.subarray(r * D + offset, r * D + offset + size), r * size);
      return out;
    };
    const tDims = dims('t', [n]);
    const local = (): F32 => {
      const d = dims('local_add_cond', [n, C + 1, W]);
      return f32(new Float32Array(d.reduce((a, b) => a * b, 1)), d);
    };
    if (this.contract.dit.variant === 'community') {
      return {
        x: f32(x, dims('x', [n, C, W])),
        t: f32(new Float32Array(tDims.reduce((a, b) => a * b, 1)).fill(t), tDims),
        cross_attn_cond: f32(pick(0, (L + 1) * H), dims('cross_attn_cond', [n, L + 1, H])),
        global_embed: f32(pick((L + 1) * H, H), dims('global_embed', [n, H])),
        local_add_cond: local(),
        padding_mask: bools(mask, dims('padding_mask', [n, W])),
      };
    }
    // Every row carries the piece's seconds_total; a graph declaring [1] takes the first (they are all equal).
    const secondsDims = dims('seconds_total', [n]);
    const seconds = pick(L * H + L, 1).subarray(0, secondsDims[0]);
    return {
      x: f32(x, dims('x', [n, C, W])),
      t: f32(new Float32Array(tDims.reduce((a, b) => a * b, 1)).fill(t), tDims),
      t5_hidden: f32(pick(0, L * H), dims('t5_hidden', [n, L, H])),
      t5_mask: f32(pick(L * H, L), dims('t5_mask', [n, L])),
      seconds_total: f32(seconds, secondsDims),
      local_add_cond: local(),
    };
  }

  /**
   * Latent [1, 256, T, 1] → stereo audio [2][4096·T] in equal-shape chunks of `decode.chunkLatentFrames` with
   * `decode.haloLatentFrames` of context per side, aligned to the latent time multiple, crop-and-stitch
   * (stable-audio-tools `decode_audio(chunked=True)`, research/longform.md §5.3); samples clamped to [−1, 1].
   */
  async decodeAudio(latent: F32, options: DecodeAudioOptions): Promise<DecodedAudio> {
    const { latent: geometry, audio } = this.manifest;
    const [, C, T] = latent.dims;
    const m = geometry.timeMultiple;
    if (T % m !== 0) throw new RangeError(`decodeAudio: ${T} latent frames is not a multiple of ${m}, which the decoder needs`);
    const S = geometry.samplesPerFrame;
    // Only as much as the caller keeps: chunks wholly inside the trimmed headroom are not decoded.
    const length = Math.min(T * S, options.samples ?? T * S);
    const { chunkLatentFrames, haloLatentFrames } = this.manifest.decode;
    const chunks = planChunks(T / m, Math.max(1, Math.floor(chunkLatentFrames / m)), Math.ceil(haloLatentFrames / m))
      .map((c) => ({ start: c.start * m, end: c.end * m, keepStart: c.keepStart * m, keepEnd: c.keepEnd * m }))
      .filter((c) => c.keepStart * S < length);
    const channels = Array.from({ length: audio.channels }, () => new Float32Array(length));
    for (let k = 0; k < chunks.length; k++) {
      throwIfAborted(options.signal, 'decode');
      const c = chunks[k];
      const width = c.end - c.start;
      const input = new Float32Array(C * width);
      for (let ch = 0; ch < C; ch++) input.set(latent.data.subarray(ch * T + c.start, ch * T + c.end), ch * width);
      const planar = await this.decodeChunk(f32(input, [1, C, width]));
      const from = (c.keepStart - c.start) * S;
      const to = Math.min((c.keepEnd - c.start) * S, length - c.start * S);
      channels.forEach((out, ch) => {
        const part = planar.subarray(ch * width * S + from, ch * width * S + to);
        for (let i = 0; i < part.length; i++) out[c.keepStart * S + i] = Math.min(1, Math.max(-1, part[i]));
      });
      options.onAudio?.(c.keepStart * S, channels.map((out) => out.subarray(c.keepStart * S, c.start * S + to)));
      options.onProgress?.({ stage: 'decode', chunk: k + 1, chunks: chunks.length });
    }
    const fps = geometry.framesPerSecond;
    return { channels, seams: { decode: chunks.slice(1).map((c) => c.keepStart / fps), vocode: [] } };
  }

  /** One decoder call: latents [1, C, w] → planar samples [channels · w · S] (the official `pcm` de-interleaved). */
  private async decodeChunk(latents: F32): Promise<Float32Array> {
    const decoder = this.sessions.decoder;
    const names = this.contract.decoder;
    const w = latents.dims[2];
    const S = this.manifest.latent.samplesPerFrame;
    const channels = this.manifest.audio.channels;
    const out = (await decoder.run({ [names.latents]: latents }))[names.output];
    if (names.layout === 'planar-float') return expectF32(out, `${decoder.name}: ${names.output}`, [1, channels, w * S]).data;
    const samples = w * S;
    if (!out || out.type !== 'int32' || out.dims.join() !== [1, samples, channels].join()) {
      throw new Error(`${decoder.name}: output '${names.output}' is ${describeTensor(out)}, expected int32 [1, ${samples}, ${channels}] (interleaved PCM)`);
    }
    const pcm = out.data as Int32Array;
    const planar = new Float32Array(channels * samples);
    for (let i = 0; i < samples; i++) for (let ch = 0; ch < channels; ch++) planar[ch * samples + i] = pcm[i * channels + ch] / PCM_SCALE;
    return planar;
  }

  /** Where the DiT runs. */
  get device(): { provider: string; precision: string; fallbackReason?: string } {
    const { provider, precision, fallbackReason } = this.sessions.dit;
    return fallbackReason === undefined ? { provider, precision } : { provider, precision, fallbackReason };
  }

  /** Seconds spent inside ONNX Runtime across the sessions. */
  runtimeSeconds(): number {
    return this.allSessions().reduce((sum, s) => sum + s.runSeconds(), 0);
  }

  /** Releases all sessions. */
  async dispose(): Promise<void> {
    await Promise.all(this.allSessions().map((s) => s.dispose()));
  }

  private allSessions(): ModelSession[] {
    const s = this.sessions;
    return [s.textEncoder, ...(s.numberConditioner ? [s.numberConditioner] : []), s.dit, s.decoder];
  }
}
