/**
 * Regional prompts along time (research/longform.md §2.2, audio mapping): each region's conditioning weight per
 * latent frame is 1 inside it and a raised-cosine ramp across each boundary, centred on the boundary and
 * `transition` seconds long, so the weights of all regions sum to one at every frame.
 */
import { GENERATION_DEFAULTS, LIMITS, MAX_PROMPT_CHARS } from '../../contract/generation-settings.ts';
import { checkLimit, InvalidRequestError } from '../errors.ts';

/** One time region of a piece and what it should sound like. Seconds. */
export interface Region {
  start: number;
  end: number;
  prompt: string;
  negativePrompt?: string;
  /** Overrides the request's guidance inside this region. */
  guidance?: number;
}

/** A distinct (prompt, negative prompt, guidance): regions that share one share embeddings and UNet rows. */
export interface Condition {
  prompt: string;
  negativePrompt: string;
  guidance: number;
  /** Indices of the regions that use this condition. */
  regions: number[];
}

/** Tolerance for comparing region edges given in seconds (1 µs). */
const EPS = 1e-6;

/** Refuses a prompt longer than {@link MAX_PROMPT_CHARS}, naming the field, its length and the cap. */
export function checkPromptLength(field: string, text: string): void {
  if (text.length <= MAX_PROMPT_CHARS) return;
  throw new InvalidRequestError(
    field,
    `${text.slice(0, 40)}…`,
    `${field} is ${text.length} characters; prompts are capped at ${MAX_PROMPT_CHARS} (projects store no more, and models read only their first few hundred tokens: AudioLDM 512, Stable Audio 3 256). Shorten it`,
  );
}

/** Checks that regions tile [0, seconds] in order, without gaps or overlaps; names the region and field. */
export function checkRegions(regions: readonly Region[], seconds: number, transition: number): void {
  if (!Array.isArray(regions) || regions.length === 0) {
    throw new InvalidRequestError('regions', regions, 'regions is empty: give at least one region {start, end, prompt} covering the piece');
  }
  checkLimit('transition', transition, LIMITS.transition, { unit: ' s', hint: `default ${GENERATION_DEFAULTS.transition}` });
  regions.forEach((r, i) => {
    const at = (field: string): string => `regions[${i}].${field}`;
    for (const field of ['start', 'end'] as const) {
      if (typeof r[field] !== 'number' || !Number.isFinite(r[field])) throw new InvalidRequestError(at(field), r[field], `${at(field)} ${String(r[field])} must be a number of seconds`);
    }
    if (r.start >= r.end) throw new InvalidRequestError(at('start'), r.start, `${at('start')} ${r.start} s must be before its end ${r.end} s`);
    if (typeof r.prompt !== 'string') throw new InvalidRequestError(at('prompt'), r.prompt, `${at('prompt')} must be a string`);
    if (r.negativePrompt !== undefined && typeof r.negativePrompt !== 'string') throw new InvalidRequestError(at('negativePrompt'), r.negativePrompt, `${at('negativePrompt')} must be a string`);
    checkPromptLength(at('prompt'), r.prompt);
    if (r.negativePrompt !== undefined) checkPromptLength(at('negativePrompt'), r.negativePrompt);
    if (r.guidance !== undefined) checkLimit(at('guidance'), r.guidance, LIMITS.guidance);
    if (i === 0 && Math.abs(r.start) > EPS) {
      throw new InvalidRequestError(at('start'), r.start, `${at('start')} is ${r.start} s but the first region must start at 0 s (regions must cover the whole piece)`);
    }
    if (i > 0) {
      const prev = regions[i - 1];
      if (r.start < prev.end - EPS) {
        throw new InvalidRequestError(at('start'), r.start, `${at('start')} ${r.start} s overlaps regions[${i - 1}], which ends at ${prev.end} s; regions must not overlap and must be in time order`);
      }
      if (r.start > prev.end + EPS) {
        throw new InvalidRequestError(at('start'), r.start, `gap between regions[${i - 1}] (ends ${prev.end} s) and regions[${i}] (starts ${r.start} s); regions must cover the piece without gaps`);
      }
    }
    if (r.end > seconds + EPS) {
      throw new InvalidRequestError(at('end'), r.end, `${at('end')} ${r.end} s is past the end of the ${seconds} s piece`);
    }
  });
  const last = regions[regions.length - 1];
  if (last.end < seconds - EPS) {
    throw new InvalidRequestError(`regions[${regions.length - 1}].end`, last.end, `the last region ends at ${last.end} s but the piece lasts ${seconds} s; regions must cover the whole piece`);
  }
  for (let i = 0; i + 1 < regions.length; i++) {
    for (const j of [i, i + 1]) {
      const length = regions[j].end - regions[j].start;
      if (transition > length + EPS) {
        throw new InvalidRequestError('transition', transition, `transition ${transition} s is longer than regions[${j}] (${length} s) next to it; use a transition of at most ${length} s`);
      }
    }
  }
}

/** Groups regions by (prompt, negative prompt, guidance) in order of first appearance. */
export function conditionsOf(regions: readonly Region[], defaultGuidance: number): Condition[] {
  const out: Condition[] = [];
  regions.forEach((r, i) => {
    const negativePrompt = r.negativePrompt ?? '';
    const guidance = r.guidance ?? defaultGuidance;
    const found = out.find((c) => c.prompt === r.prompt && c.negativePrompt === negativePrompt && c.guidance === guidance);
    if (found) found.regions.push(i);
    else out.push({ prompt: r.prompt, negativePrompt, guidance, regions: [i] });
  });
  return out;
}

/**
 * Per-condition weight of every latent frame (frame t sits at (t + ½)/fps seconds). At a boundary b between
 * regions the earlier one fades 1 → 0 as ½(1 + cos(π·(x − b + τ/2)/τ)) over [b − τ/2, b + τ/2] and the later one
 * takes the complement, so weights sum to one everywhere.
 */
export function conditionWeights(regions: readonly Region[], conditions: readonly Condition[], frames: number, framesPerSecond: number, transition: number): Float32Array[] {
  const regionOf = new Int32Array(regions.length);
  conditions.forEach((c, k) => c.regions.forEach((r) => (regionOf[r] = k)));
  const weights = conditions.map(() => new Float32Array(frames));
  let r = 0;
  for (let t = 0; t < frames; t++) {
    const x = (t + 0.5) / framesPerSecond;
    while (r + 1 < regions.length && x >= regions[r].end) r++;
    // Distance to the nearest boundary decides the blend with the neighbour on that side.
    const prevEdge = r > 0 ? regions[r].start : Number.NEGATIVE_INFINITY;
    const nextEdge = r + 1 < regions.length ? regions[r].end : Number.POSITIVE_INFINITY;
    let own = 1;
    let other = -1;
    if (transition > 0 && x - prevEdge < transition / 2) {
      own = ramp(x - prevEdge, transition);
      other = r - 1;
    } else if (transition > 0 && nextEdge - x <= transition / 2) {
      own = ramp(nextEdge - x, transition);
      other = r + 1;
    }
    weights[regionOf[r]][t] += own;
    if (other >= 0) weights[regionOf[other]][t] += 1 - own;
  }
  return weights;
}

/** Weight of the region a point is in, at distance d ∈ [0, τ/2] inside from the boundary: ½(1 + sin(π·d/τ)). */
function ramp(d: number, transition: number): number {
  return 0.5 * (1 + Math.sin((Math.PI * d) / transition));
}

/** The latent a tiled prediction covers: [1, C, T, Fq], flat. */
export interface JoinLayout {
  channels: number;
  frames: number;
  bins: number;
}

/**
 * Level matching at region joins (issue 12). Where conditions overlap, the tiler's fused prediction is the weighted
 * mean Σ_k r_k·p_k of the conditions' outputs. Measured from a reference u_k that holds none of the prompt (the
 * unconditional output: a guided condition's own CFG row; for an unguided one, the model's ordinary prediction for
 * its negative prompt, "" by default), the deviations d_k = p_k − u_k of two different prompts are largely
 * uncorrelated, so their mean has less energy than either: ‖Σ r_k·d_k‖² ≤ Σ r_k·‖d_k‖² (Jensen), down to half of it
 * midway. The blended latent then carries less of either prompt, and a decoder that maps latent level to loudness
 * dips: the stable-audio-3 stand-in dipped 5.1 and 3.9 dB midway through the joins of the issue's three-region piece
 * and 9 dB between single-voice prompts ("drone" → "rain"). Blending x̂₀ or velocity instead of ε changes nothing:
 * every family's x̂₀ is a·x + b·p with a, b the same for all conditions, so with weights that sum to one the blends
 * are identical (and so are their energies). (The sketch's much larger pump was its vocoder: packs/sketch/graphs.ts.)
 *
 * The match scales the blended deviation, per join frame, back to the blend of the energies:
 *   p = Σ r_k·u_k + s·Σ r_k·d_k,   s = √(Σ r_k·‖d_k‖² / ‖Σ r_k·d_k‖²), at most 1/√(Σ r_k²).
 * Uncorrelated deviations are blended at equal power (s = √2 midway), identical ones at equal amplitude (s = 1: no
 * swell where two prompts agree); the cap is the equal-power limit, so opposed deviations are not blown up. Because
 * x̂₀ is affine in p with shared coefficients, the energies are those of the x̂₀ deviations: the rule holds for ε, v
 * and any other parametrisation. Frames with one condition are left bit for bit as they are.
 *
 * The tiler feeds each window × condition output with its reference (`addFrame`, with the weight the fused mean
 * gives it) and then calls `apply` on the fused mean; over overlapping windows Σ r_k·‖d_k‖² is taken per window,
 * which can only raise s (Jensen again), within the cap.
 */
export class JoinLevelMatch {
  /** Index of each frame among the join frames, −1 elsewhere. */
  private readonly slot: Int32Array;
  private readonly joins: number;
  /** Σ weight·u at join frames, [C, joins, Fq]. */
  private readonly baseline: Float64Array;
  /** Σ weight·‖p − u‖² and Σ weight per join frame. */
  private readonly energy: Float64Array;
  private readonly weightSum: Float64Array;
  /** 1/√(Σ r_k²) per join frame: the equal-power cap of s. */
  private readonly cap: Float64Array;

  constructor(
    weights: readonly Float32Array[],
    private readonly layout: JoinLayout,
  ) {
    const { channels: C, frames: T, bins: Fq } = layout;
    this.slot = new Int32Array(T).fill(-1);
    const caps: number[] = [];
    for (let t = 0; t < T; t++) {
      let sum = 0;
      let squares = 0;
      let present = 0;
      for (const w of weights) {
        if (!(w[t] > 0)) continue;
        present++;
        sum += w[t];
        squares += w[t] * w[t];
      }
      if (present < 2) continue;
      this.slot[t] = caps.length;
      caps.push(sum / Math.sqrt(squares));
    }
    this.joins = caps.length;
    this.cap = Float64Array.from(caps);
    this.baseline = new Float64Array(C * this.joins * Fq);
    this.energy = new Float64Array(this.joins);
    this.weightSum = new Float64Array(this.joins);
  }

  /** Frames where conditions overlap; 0 when no region blends into another (one condition, or transition 0). */
  get frames(): number {
    return this.joins;
  }

  /** Whether frames [start, start + length) hold a join frame, i.e. whether a job there needs its unconditional output. */
  touches(start: number, length: number): boolean {
    for (let t = Math.max(0, start); t < Math.min(this.slot.length, start + length); t++) if (this.slot[t] >= 0) return true;
    return false;
  }

  /**
   * Adds one window frame of one condition: its output `prediction` and unconditional output `baseline`, both laid
   * out [C, W, Fq] (flat, `plane` = W·Fq values per channel), frame `n` of the window, latent frame `t`, with the
   * weight the fused mean gives it. Frames outside the joins are ignored.
   */
  addFrame(t: number, n: number, weight: number, prediction: ArrayLike<number>, baseline: ArrayLike<number>, plane: number): void {
    const j = this.slot[t];
    if (j < 0 || weight === 0) return;
    const { channels: C, bins: Fq } = this.layout;
    let energy = 0;
    for (let ch = 0; ch < C; ch++) {
      const src = ch * plane + n * Fq;
      const dst = (ch * this.joins + j) * Fq;
      for (let f = 0; f < Fq; f++) {
        const u = baseline[src + f];
        const d = prediction[src + f] - u;
        this.baseline[dst + f] += weight * u;
        energy += d * d;
      }
    }
    this.energy[j] += weight * energy;
    this.weightSum[j] += weight;
  }

  /**
   * Level-matches `fused` (the normalised weighted mean, [1, C, T, Fq] flat) in place at every join frame that
   * received unconditional outputs. Returns the largest scale applied (1 when none was).
   */
  apply(fused: Float32Array): number {
    const { channels: C, frames: T, bins: Fq } = this.layout;
    let largest = 1;
    for (let t = 0; t < T; t++) {
      const j = this.slot[t];
      if (j < 0 || !(this.weightSum[j] > 0)) continue;
      const inv = 1 / this.weightSum[j];
      let mixed = 0;
      for (let ch = 0; ch < C; ch++) {
        for (let f = 0; f < Fq; f++) {
          const d = fused[(ch * T + t) * Fq + f] - this.baseline[(ch * this.joins + j) * Fq + f] * inv;
          mixed += d * d;
        }
      }
      const blended = this.energy[j] * inv;
      if (!(mixed > 0) || !(blended > mixed)) continue;
      const s = Math.min(this.cap[j], Math.sqrt(blended / mixed));
      if (s <= 1) continue;
      largest = Math.max(largest, s);
      for (let ch = 0; ch < C; ch++) {
        for (let f = 0; f < Fq; f++) {
          const i = (ch * T + t) * Fq + f;
          fused[i] += (s - 1) * (fused[i] - this.baseline[(ch * this.joins + j) * Fq + f] * inv);
        }
      }
    }
    return largest;
  }
}
