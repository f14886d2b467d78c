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
