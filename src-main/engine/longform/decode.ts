/**
 * Chunked VAE decoding and vocoding of long latents in bounded memory (research/longform.md §5.3, §6).
 *
 * Both walk {@link planChunks}' equal-shape chunks (last one end-aligned) one at a time and keep one chunk's output
 * besides the result (a latent of up to {@link VAE_SINGLE_PASS_CORES} cores is one VAE call, the exact decode; the
 * vocoder's default cores are fitted to the mel so its calls overlap by their halos only):
 * - VAE decoder: halo on both sides, crop-and-stitch, plus a short linear (sum-to-one) crossfade of the decoded
 *   log-mel across each join. GroupNorm and the mid-block attention make a GN+attention decoder inexact under any
 *   tiling (§5.2); the crossfade hides the residual gain mismatch (§5.3). Sum-to-one, not equal-power, because the
 *   two decodes of an overlap are highly correlated (§5.3, "Crossfade shape"). Before the fade, joins are
 *   level-matched: where loudness changes between chunks, per-chunk statistics put the same frames at levels several
 *   dB apart (up to 12.6 dB on shape-s), more than any short crossfade hides. Each join's per-bin difference Δ of the
 *   two decodes is measured near it, and each chunk's log-mel gets a linear ramp from −Δ_in/2 at its first join to
 *   +Δ_out/2 at its last, so both sides meet at the join and the correction never accumulates along the piece.
 * - Vocoder: halo ≥ the receptive field and plain crop-and-stitch, which is exact for a local, shift-equivariant
 *   vocoder such as HiFi-GAN (§6); each chunk is told its absolute first sample (`sampleOffset`) so vocoders with
 *   position-dependent oscillators or noise stay phase-continuous.
 *
 * Join j of the VAE plan sits at mel frame J = r·keepEnd (r mel frames per latent frame). Over the crossfade
 * [J − lead, J + lag), lead + lag = X:  mel[J − lead + i] = (1 − w_i)·left[…] + w_i·right[…],  w_i = (i + ½)/X.
 * Both neighbours decode that region with at least `halo` latent frames of real context beyond it, because the plan
 * widens each chunk's halo by ⌈max(lead, lag)/r⌉ latent frames.
 */
import { throwIfAborted } from '../errors.ts';
import { f32, type F32 } from '../tensor/tensor.ts';
import { planChunks, type Chunk } from './chunks.ts';

/** One VAE decoder call: latent [1, C, w, Fq] → mel [1, 1, r·w, bins]. */
export type LatentDecode = (latent: F32) => Promise<F32>;

/**
 * One vocoder call: mel [1, 1, w, bins] → waveform [1, hop·w + extra]; `sampleOffset` is the absolute index of its
 * first output sample (position-dependent vocoders need it; convolutional ones ignore it).
 */
export type MelVocode = (mel: F32, sampleOffset: number) => Promise<F32>;

/** The shapes chunked VAE decoding needs: the latent's and the mel's, and the decoder's reach. */
export interface VaeGeometry {
  /** C and Fq of the latent [1, C, T, Fq]. */
  channels: number;
  bins: number;
  /** r: mel frames per latent frame (4 for AudioLDM). */
  melPerLatent: number;
  /** Mel bins of the decoded mel. */
  melBins: number;
  /** Latent frames each chunk contributes by default (the denoiser's native window). */
  core: number;
  /** Latent frames of context per side the decoder's receptive field needs (a pack's `decode.vaeHaloLatentFrames`). */
  receptiveField: number;
}

/** The shapes chunked vocoding needs. */
export interface VocoderGeometry {
  /** Samples per mel frame. */
  hop: number;
  /** Samples the vocoder returns beyond hop·F. */
  extraSamples: number;
  melBins: number;
  /** Mel frames of context per side the vocoder's receptive field needs (a pack's `decode.vocoderHaloMelFrames`). */
  receptiveField: number;
}

/** Latent frames of context per side used by default, unless the pack's receptive field needs more (§5.3). */
export const DEFAULT_VAE_HALO_LATENT_FRAMES = 32;
/** Mel frames over which neighbouring VAE decodes are crossfaded by default (0.32 s at hop 160, §5.3: 16–32). */
export const DEFAULT_CROSSFADE_MEL_FRAMES = 32;
/**
 * Latent frames on each side of a VAE join over which the two chunks' level difference is measured (0.48 s at 25
 * frames/s). Local, because per-chunk statistics change the gain as well as the offset, so the difference follows
 * the content. On shape-s's decoder with loudness changing near a join (14 layouts of quiet and loud stretches,
 * tests/engine/longform/decode.test.ts has one), ±12 frames left steps of at most 1.5 dB against the one-pass decode
 * where unmatched joins stepped up to 12.6 dB; ±24 frames let a content change inside the window leak in (3.1 dB),
 * ±4 frames were noisier (0.9 dB).
 */
export const LEVEL_MATCH_REACH = 12;
/**
 * Mel frames of core per vocoder call at most, by default (10.24 s at hop 160). The vocoder's cost per frame does not
 * depend on the call's length (AudioLDM-S HiFi-GAN, 546 to 2094 frames per call: within 1 %, issue 14), so larger
 * cores only save halos (2 × 23 frames per call); 1024 keeps the first audio of a preview early.
 */
export const DEFAULT_VOCODER_CORE_MEL_FRAMES = 1024;
/**
 * A latent of at most this many chunk cores is decoded in one pass by default (AudioLDM: 512 latent frames, 20.48 s).
 * One pass is the reference every chunked mode approximates, and up to two cores it is also the cheapest plan: any
 * chunked plan needs two calls of core + 2·halo frames (estimated mode four), while the one pass grows only by the
 * mid-block attention's T² term (AudioLDM-S VAE, one thread: 8.0 s per 328-frame call against 13.0 s for 512 frames
 * in one call; issue 14). Its memory is what one call of that length needs (3.0 GiB RSS at 512 frames against 1.9 GiB
 * per 328-frame chunk, through the shared-statistics rewrite), so longer pieces stay chunked.
 */
export const VAE_SINGLE_PASS_CORES = 2;

/** Progress and cancellation shared by both chunked stages. */
export interface ChunkedRunOptions {
  /** Checked before every chunk; a fired signal throws the engine's CancelledError. */
  signal?: AbortSignal;
  /** Called after each chunk with the chunks done and the chunk count (1 of 1 when no chunking was needed). */
  onChunk?: (done: number, total: number) => void;
}

/** Options of {@link decodeChunked}. */
export interface DecodeChunkedOptions extends ChunkedRunOptions {
  /** Latent frames each chunk contributes at most. Default: the geometry's `core` (256 for AudioLDM). */
  core?: number;
  /**
   * Latents of at most this many frames are decoded in one pass, the exact decode (default
   * {@link VAE_SINGLE_PASS_CORES} × core). Longer ones are chunked; a latent that fits one chunk is always one pass.
   */
  singlePassFrames?: number;
  /**
   * Latent frames of real context beyond everything a chunk contributes, per side. Default: max(the geometry's
   * `receptiveField`, 32). Smaller values are accepted for experiments and lose exactness.
   */
  halo?: number;
  /** Mel frames of linear crossfade centred on each join; 0 = plain crop-and-stitch. Default 32. */
  crossfadeMelFrames?: number;
  /**
   * Level-matched joins (default true): each chunk's log-mel gets a per-bin ramp that cancels the level step its
   * per-chunk GroupNorm statistics make against each neighbour, measured where both decode the same frames.
   */
  levelMatch?: boolean;
}

/** Options of {@link vocodeChunked}. */
export interface VocodeChunkedOptions extends ChunkedRunOptions {
  /**
   * Mel frames each chunk contributes. Default: equal cores of ⌈F/n⌉ frames for the fewest chunks n whose cores hold
   * at most {@link DEFAULT_VOCODER_CORE_MEL_FRAMES}, so that no call computes frames only to throw them away (with fixed
   * cores of 1024, 11 s of audio took two calls of 1070 frames; now two of 596). A given core is used as it is.
   */
  core?: number;
  /**
   * Mel frames of context per side. Default: the geometry's `receptiveField` (22–23 for AudioLDM's HiFi-GAN, §6).
   * Smaller values are accepted for experiments and lose exactness.
   */
  halo?: number;
  /**
   * Receives each finished stretch of audio as soon as its chunk is stitched: `start` is its first sample in the
   * output, `samples` a view that stays valid (the output is never rewritten). For previews while vocoding.
   */
  onAudio?: (start: number, samples: Float32Array) => void;
}

/** A chunk of the VAE plan with the crossfade it shares with each neighbour. */
export interface DecodeChunk extends Chunk {
  /** Mel frames [melStart, melEnd) this chunk writes into the result, fades included. */
  melStart: number;
  melEnd: number;
}

/** The VAE chunk plan: latent chunks widened so every crossfaded mel frame has `halo` latent frames of context. */
export interface DecodePlan {
  chunks: DecodeChunk[];
  /** Mel frames of the crossfade before the join (lead) and after it (lag); lead + lag = crossfadeMelFrames. */
  lead: number;
  lag: number;
}

/**
 * Plans chunked VAE decoding over `total` latent frames: {@link planChunks} with the halo widened by the latent
 * frames the crossfade reaches past each join, so each fade frame keeps `halo` latent frames of context in both
 * decodes. `melPerLatent` is the decoder's time upsampling (4 for AudioLDM).
 */
export function planDecode(total: number, core: number, halo: number, crossfadeMelFrames: number, melPerLatent: number): DecodePlan {
  checkCount('crossfadeMelFrames', crossfadeMelFrames, 0);
  checkCount('melPerLatent', melPerLatent, 1);
  const lead = Math.floor(crossfadeMelFrames / 2);
  const lag = crossfadeMelFrames - lead;
  const reach = Math.ceil(lag / melPerLatent);
  const chunks = planChunks(total, core, halo + reach);
  const last = chunks.length - 1;
  const planned = chunks.map((c, k) => ({
    ...c,
    melStart: k === 0 ? 0 : melPerLatent * c.keepStart - lead,
    melEnd: k === last ? melPerLatent * total : melPerLatent * c.keepEnd + lag,
  }));
  // Each core must hold the fade-in at its start and the fade-out at its end without the two overlapping.
  const thinnest = Math.min(...chunks.map((c) => c.keepEnd - c.keepStart));
  if (chunks.length > 1 && melPerLatent * thinnest < crossfadeMelFrames) {
    throw new RangeError(
      `crossfadeMelFrames ${crossfadeMelFrames} is longer than the thinnest chunk core (${thinnest} latent frames = ` +
        `${melPerLatent * thinnest} mel frames); use at most ${melPerLatent * thinnest} or a larger core`,
    );
  }
  return { chunks: planned, lead, lag };
}

/** The VAE chunk plan decodeChunked uses for `total` latent frames (defaults filled in from `geometry`). */
export function decodePlanFor(
  geometry: VaeGeometry,
  total: number,
  options: Pick<DecodeChunkedOptions, 'core' | 'halo' | 'crossfadeMelFrames' | 'singlePassFrames'> = {},
): DecodePlan {
  const core = options.core ?? geometry.core;
  const halo = options.halo ?? Math.max(geometry.receptiveField, DEFAULT_VAE_HALO_LATENT_FRAMES);
  const crossfade = options.crossfadeMelFrames ?? DEFAULT_CROSSFADE_MEL_FRAMES;
  const singlePass = options.singlePassFrames ?? VAE_SINGLE_PASS_CORES * core;
  // A core as long as the latent makes the one chunk [0, total).
  return planDecode(total, total <= singlePass ? total : core, halo, crossfade, geometry.melPerLatent);
}

/** The vocoder chunk plan vocodeChunked uses for `total` mel frames (defaults filled in from `geometry`). */
export function vocodePlanFor(geometry: VocoderGeometry, total: number, options: Pick<VocodeChunkedOptions, 'core' | 'halo'> = {}): Chunk[] {
  const halo = options.halo ?? geometry.receptiveField;
  if (options.core !== undefined) return planChunks(total, options.core, halo);
  // One call while the mel fits a default chunk (halos included); else n cores of ⌈F/n⌉ ≤ the default core, which
  // make n chunks again (⌈F/⌈F/n⌉⌉ = n), each core + 2·halo long.
  const core = DEFAULT_VOCODER_CORE_MEL_FRAMES;
  const chunks = total <= core + 2 * halo ? 1 : Math.ceil(total / core);
  return planChunks(total, Math.ceil(total / chunks), halo);
}

/**
 * Decodes latent [1, C, T, Fq] to mel [1, 1, r·T, bins] in time chunks of one shape (research/longform.md §5.3),
 * calling `decode` once per chunk. When T fits one chunk this is exactly `decode(latent)`.
 */
export async function decodeChunked(decode: LatentDecode, latent: F32, geometry: VaeGeometry, options: DecodeChunkedOptions = {}): Promise<F32> {
  const [batch, channels, total, bins] = latent.dims;
  if (latent.dims.length !== 4 || batch !== 1 || channels !== geometry.channels || bins !== geometry.bins) {
    throw new RangeError(`decodeChunked: latent dims [${latent.dims.join(', ')}] must be [1, ${geometry.channels}, T, ${geometry.bins}]; decode one take at a time`);
  }
  const r = geometry.melPerLatent;
  const { melBins } = geometry;
  const { chunks, lead, lag } = decodePlanFor(geometry, total, options);
  const crossfade = lead + lag;

  if (chunks.length === 1) {
    throwIfAborted(options.signal, 'decode');
    const mel = await decode(latent);
    options.onChunk?.(1, 1);
    return mel;
  }

  const out = new Float32Array(r * total * melBins);
  const width = chunks[0].end - chunks[0].start;
  const plane = total * bins;
  const levelMatch = options.levelMatch ?? true;
  const rf = geometry.receptiveField;
  // Chunk k is written once chunk k + 1 is decoded: its level ramp ends at the offset measured at their join.
  let pending: { k: number; mel: F32; rampStart: Float64Array } | null = null;
  const write = (k: number, mel: F32, rampStart: Float64Array, rampEnd: Float64Array): void => {
    const c = chunks[k];
    const offset = r * c.start;
    const fadeIn = k === 0 ? undefined : r * c.keepStart - lead;
    const fadeOut = k === chunks.length - 1 ? undefined : r * c.keepEnd - lead;
    const joinIn = r * c.keepStart;
    const joinOut = r * c.keepEnd;
    for (let m = c.melStart; m < c.melEnd; m++) {
      let w = 1;
      if (fadeIn !== undefined && m < fadeIn + crossfade) w = (m - fadeIn + 0.5) / crossfade;
      else if (fadeOut !== undefined && m >= fadeOut) w = 1 - (m - fadeOut + 0.5) / crossfade;
      const src = (m - offset) * melBins;
      const dst = m * melBins;
      // Level ramp: −Δ_in/2 at the join before this core, +Δ_out/2 at the join after it, held beyond them (the fades).
      const u = Math.min(Math.max((m + 0.5 - joinIn) / (joinOut - joinIn), 0), 1);
      // The left neighbour already wrote its (1 − w) share of the fade frames; everything else starts at zero.
      for (let b = 0; b < melBins; b++) out[dst + b] += w * (mel.data[src + b] + (1 - u) * rampStart[b] + u * rampEnd[b]);
    }
  };
  const zero = new Float64Array(melBins);
  for (let k = 0; k < chunks.length; k++) {
    throwIfAborted(options.signal, 'decode');
    const c = chunks[k];
    const input = new Float32Array(channels * width * bins);
    // One contiguous block of width·Fq floats per channel (longform.md §9).
    for (let ch = 0; ch < channels; ch++) {
      input.set(latent.data.subarray(ch * plane + c.start * bins, ch * plane + c.end * bins), ch * width * bins);
    }
    const mel = await decode(f32(input, [1, channels, width, bins]));
    const expected = [1, 1, r * width, melBins];
    if (mel.dims.some((d, i) => d !== expected[i]) || mel.dims.length !== 4) {
      throw new RangeError(`decodeChunked: the VAE decoder returned dims [${mel.dims.join(', ')}], expected [${expected.join(', ')}]`);
    }
    if (pending === null) {
      pending = { k, mel, rampStart: zero };
    } else {
      const left = chunks[pending.k];
      const step: Float64Array = levelMatch ? joinStep(pending.mel, left, mel, c, { r, melBins, rf, total }) : zero;
      write(pending.k, pending.mel, pending.rampStart, step.map((d) => d / 2));
      pending = { k, mel, rampStart: step.map((d) => -d / 2) };
    }
    options.onChunk?.(k + 1, chunks.length);
  }
  if (pending !== null) write(pending.k, pending.mel, pending.rampStart, zero);
  return f32(out, [1, 1, r * total, melBins]);
}

/**
 * Vocodes mel [1, 1, F, bins] to hop·F + extra samples by crop-and-stitch over chunks of one shape
 * (research/longform.md §6), calling `vocode` once per chunk: chunk [start, end) keeps samples
 * [(keepStart − start)·hop, (keepEnd − start)·hop) of its output, and the last chunk also the trailing `extra`
 * samples. When F fits one chunk this is one vocoder call.
 */
export async function vocodeChunked(vocode: MelVocode, mel: F32, geometry: VocoderGeometry, options: VocodeChunkedOptions = {}): Promise<Float32Array> {
  const { hop, extraSamples: extra, melBins: bins } = geometry;
  const [batch, one, total, melBins] = mel.dims;
  if (mel.dims.length !== 4 || batch !== 1 || one !== 1 || melBins !== bins) {
    throw new RangeError(`vocodeChunked: mel dims [${mel.dims.join(', ')}] must be [1, 1, F, ${bins}]; vocode one take at a time`);
  }
  const chunks = vocodePlanFor(geometry, total, options);
  const length = hop * total + extra;

  if (chunks.length === 1) {
    throwIfAborted(options.signal, 'vocode');
    const wave = await vocode(mel, 0);
    checkWaveLength(wave, length);
    options.onAudio?.(0, wave.data);
    options.onChunk?.(1, 1);
    return wave.data;
  }

  const out = new Float32Array(length);
  const width = chunks[0].end - chunks[0].start;
  for (let k = 0; k < chunks.length; k++) {
    throwIfAborted(options.signal, 'vocode');
    const c = chunks[k];
    const part = f32(mel.data.subarray(c.start * bins, c.end * bins), [1, 1, width, bins]);
    const wave = await vocode(part, c.start * hop);
    checkWaveLength(wave, hop * width + extra);
    const from = (c.keepStart - c.start) * hop;
    const to = (c.keepEnd - c.start) * hop + (k === chunks.length - 1 ? extra : 0);
    out.set(wave.data.subarray(from, to), c.keepStart * hop);
    options.onAudio?.(c.keepStart * hop, out.subarray(c.keepStart * hop, c.keepStart * hop + (to - from)));
    options.onChunk?.(k + 1, chunks.length);
  }
  return out;
}

/**
 * Δ[b] = mean of (right − left) over the mel frames both chunks decode with at least the receptive field of context
 * (and within LEVEL_MATCH_REACH of the join): how much higher the right chunk's per-chunk GroupNorm puts bin b than the left
 * one's on the same latent.
 */
function joinStep(leftMel: F32, left: Chunk, rightMel: F32, right: Chunk, g: { r: number; melBins: number; rf: number; total: number }): Float64Array {
  const { r, melBins, rf } = g;
  const join = right.keepStart;
  // A chunk's frame is fully informed rf frames from an edge it cuts (the piece's own ends are the same for all).
  const validFrom = Math.max(right.start === 0 ? 0 : right.start + rf, join - LEVEL_MATCH_REACH);
  const validTo = Math.min(left.end === g.total ? g.total : left.end - rf, join + LEVEL_MATCH_REACH);
  const step = new Float64Array(melBins);
  if (validTo <= validFrom) return step;
  for (let m = r * validFrom; m < r * validTo; m++) {
    const a = (m - r * left.start) * melBins;
    const b = (m - r * right.start) * melBins;
    for (let k = 0; k < melBins; k++) step[k] += rightMel.data[b + k] - leftMel.data[a + k];
  }
  const n = r * (validTo - validFrom);
  return step.map((d) => d / n);
}

function checkWaveLength(wave: F32, samples: number): void {
  if (wave.dims.length !== 2 || wave.dims[0] !== 1 || wave.dims[1] !== samples) {
    throw new RangeError(`vocodeChunked: the vocoder returned dims [${wave.dims.join(', ')}], expected [1, ${samples}]`);
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`planDecode: ${name} must be an integer ≥ ${min}, got ${value}`);
}
