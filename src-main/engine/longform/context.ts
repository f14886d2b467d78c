/**
 * Generation in context (RePaint, Lugmayr et al. 2022): part of the piece is free,
 * the rest is held to a kept latent (the neighbours' takes, or the run a new region extends). After every sampler
 * step the held frames are replaced by the kept latent taken to the sample's level with the family's own forward
 * process (`Scheduler.levelAt`: DDPM noising, or (1 − t)·x₀ + t·ε for rectified flow), blended by a per-frame hold
 * weight that falls from 1 to 0 along a raised cosine inside the free part's edges, so the free frames grow out of
 * the kept ones. At the last level the held frames are the kept latent itself (it is a finished sample).
 *
 * Resampling rounds (RePaint §4.2, jump length 1): the replacement tells the free frames nothing about the held ones
 * until the model sees both in the next prediction, so a step can leave them disagreeing at the edges. With U rounds,
 * the sample after step k (level k + 1, held frames replaced) is taken back to level k by the forward process
 * (`renoise`) and step k is taken again, U times in all; the last round's sample goes on. It costs U× the
 * evaluations of every step but the last.
 */
import type { NoiseLevel } from '../schedulers/index.ts';

/** What the piece keeps: a latent over its T frames and how strongly each frame holds to it. */
export interface LatentContext {
  /** The kept latent [C, T, Fq] (values of frames whose hold is 0 are not read). */
  known: Float32Array;
  /** Per frame: 1 held to `known`, 0 free, in between a ramp (length T). */
  hold: Float32Array;
  /** Per frame: 1 where `known` holds a kept latent (absent: wherever hold > 0). */
  has?: Uint8Array;
}

/** A latent's layout [1, C, T, Fq]. */
export interface ContextLayout {
  channels: number;
  frames: number;
  bins: number;
}

/**
 * Hold weights for a piece of `frames` frames whose frames [from, to) are free (fractional bounds allowed: audio
 * seconds × frame rate). Frames before `from` are held only when `before` (kept content exists there), after `to`
 * only when `after`; inside the free span the hold falls from 1 at the edge to 0 over `ramp` frames (raised cosine),
 * so the new content starts exactly where the kept one ends.
 */
export function holdWeights(frames: number, span: { from: number; to: number; ramp: number; before: boolean; after: boolean }): Float32Array {
  const { from, to, ramp, before, after } = span;
  if (!(from >= 0 && from < to && to <= frames + 1e-9)) throw new RangeError(`free frames ${from}–${to} are not a span of the piece's ${frames} frames`);
  const fall = (distance: number): number => (ramp <= 0 || distance >= ramp ? 0 : 0.5 * (1 + Math.cos((Math.PI * distance) / ramp)));
  const hold = new Float32Array(frames);
  for (let t = 0; t < frames; t++) {
    const centre = t + 0.5;
    if (centre < from) hold[t] = before ? 1 : 0;
    else if (centre >= to) hold[t] = after ? 1 : 0;
    else hold[t] = Math.max(before ? fall(centre - from) : 0, after ? fall(to - centre) : 0);
  }
  return hold;
}

/**
 * `sample` with every held frame moved to the kept latent at `level`: x ← h·(signal·x₀ + noise·ε) + (1 − h)·x, and
 * in the ramp (0 < h < 1) the frame's energy set to h·E(kept) + (1 − h)·E(x): a linear blend of two unrelated
 * samples has less energy than either (half at h = ½ for independent ones), which the decoder would turn into a dip
 * at the region's edges; matching the interpolated energy keeps the level continuous whatever the two share.
 * `noise` is standard normal noise of the sample's layout (drawn per absolute frame by the caller); at the last level
 * pass `{ signal: 1, noise: 0 }`. Returns a new array.
 */
export function holdToContext(sample: Float32Array, context: LatentContext, level: NoiseLevel, noise: Float32Array, layout: ContextLayout): Float32Array {
  const { channels: C, frames: T, bins: Fq } = layout;
  if (context.hold.length !== T || context.known.length !== sample.length || noise.length !== sample.length) {
    throw new RangeError(`context of ${context.hold.length} frames (${context.known.length} values) does not fit a latent of ${T} frames (${sample.length} values)`);
  }
  const out = sample.slice();
  const kept = new Float64Array(C * Fq);
  for (let t = 0; t < T; t++) {
    const h = context.hold[t];
    if (h === 0) continue;
    let keptEnergy = 0;
    let ownEnergy = 0;
    let blendEnergy = 0;
    for (let c = 0; c < C; c++) {
      for (let q = 0; q < Fq; q++) {
        const i = (c * T + t) * Fq + q;
        const k = level.signal * context.known[i] + level.noise * noise[i];
        kept[c * Fq + q] = k;
        if (h === 1) continue;
        const blended = h * k + (1 - h) * sample[i];
        keptEnergy += k * k;
        ownEnergy += sample[i] * sample[i];
        blendEnergy += blended * blended;
      }
    }
    const scale = h === 1 || blendEnergy === 0 ? 1 : Math.sqrt((h * keptEnergy + (1 - h) * ownEnergy) / blendEnergy);
    for (let c = 0; c < C; c++) {
      for (let q = 0; q < Fq; q++) {
        const i = (c * T + t) * Fq + q;
        const k = kept[c * Fq + q];
        out[i] = h === 1 ? k : (h * k + (1 - h) * sample[i]) * scale;
      }
    }
  }
  return out;
}

/**
 * A sample at level `from` taken to the noisier level `to` by the forward process: x' = a·x + b·ε with a =
 * signal_to / signal_from and b = √(noise_to² − a²·noise_from²), so x' ~ signal_to·x₀ + noise_to·ε' whenever x ~
 * signal_from·x₀ + noise_from·ε (DDPM: q(x_t | x_s); rectified flow the same with 1 − t and t). Returns a new array.
 */
export function renoise(sample: Float32Array, from: NoiseLevel, to: NoiseLevel, noise: Float32Array): Float32Array {
  if (!(from.signal > 0) || to.signal > from.signal || noise.length !== sample.length) {
    throw new RangeError(`cannot renoise from level (${from.signal}, ${from.noise}) to the less noisy (${to.signal}, ${to.noise}), or noise of ${noise.length} values for ${sample.length}`);
  }
  const a = to.signal / from.signal;
  const b = Math.sqrt(Math.max(0, to.noise * to.noise - a * a * from.noise * from.noise));
  return sample.map((x, i) => a * x + b * noise[i]);
}

/** A kept latent a regeneration reads: part of an earlier piece, placed on this piece's time axis. */
export interface KeptLatent {
  /** The earlier piece's final latent [C, T', Fq]. */
  data: Float32Array;
  frames: number;
  /** This piece's time (seconds from its start, may be negative) of the kept latent's frame 0. */
  offset: number;
  /** The part of this piece (seconds from its start) where it applies: the kept region's visible span. */
  from: number;
  to: number;
}

/** What a request keeps: latents of its neighbours, and the span (seconds from the piece's start) that is new. */
export interface ContextSpec {
  kept: KeptLatent[];
  free: { from: number; to: number };
  /** Seconds over which the new content grows out of the kept one at each edge of the free span. */
  ramp: number;
  /** RePaint resampling rounds per step (1 = none, the default); see the module comment. */
  rounds?: number;
}

/**
 * The kept latent and hold weights over a piece of `layout.frames` frames at `framesPerSecond`: frame t (time
 * t / fps) takes the kept latent that applies there, nearest frame (pieces planned on the kept latent's frame grid
 * align exactly); frames in no kept span are free (nothing to hold them to). The ramp inside the free span holds to
 * what is kept there — the region's own previous latent, when its take kept one — so without it the edge is hard
 * (RePaint's binary mask).
 */
export function assembleContext(spec: ContextSpec, layout: ContextLayout, framesPerSecond: number): LatentContext {
  const { channels: C, frames: T, bins: Fq } = layout;
  const known = new Float32Array(C * T * Fq);
  const has = new Uint8Array(T);
  for (const kept of spec.kept) {
    if (kept.data.length !== C * kept.frames * Fq) {
      throw new RangeError(`a kept latent of ${kept.data.length} values is not [${C}, ${kept.frames}, ${Fq}]: it was made by another model; regenerate the run instead`);
    }
    for (let t = 0; t < T; t++) {
      const time = (t + 0.5) / framesPerSecond;
      if (time < kept.from || time >= kept.to) continue;
      const f = Math.round(t - kept.offset * framesPerSecond);
      if (f < 0 || f >= kept.frames) continue;
      for (let c = 0; c < C; c++) known.set(kept.data.subarray((c * kept.frames + f) * Fq, (c * kept.frames + f + 1) * Fq), (c * T + t) * Fq);
      has[t] = 1;
    }
  }
  const from = Math.max(0, spec.free.from * framesPerSecond);
  const to = Math.min(T, spec.free.to * framesPerSecond);
  const before = from > 0 && has[Math.max(0, Math.ceil(from) - 1)] === 1;
  const after = to < T && has[Math.min(T - 1, Math.floor(to))] === 1;
  const ramp = Math.min(spec.ramp * framesPerSecond, (to - from) / (before && after ? 2 : 1));
  const hold = holdWeights(T, { from, to, ramp, before, after });
  // A frame with nothing kept is free, ramp or not (holding it would pull it towards zero: silence).
  for (let t = 0; t < T; t++) if (has[t] === 0) hold[t] = 0;
  return { known, hold, has };
}

/** How the pipeline applies a context: to the starting sample and after every step. */
export interface ContextRunner {
  /** The starting sample with the held frames at level 0. */
  start(sample: Float32Array): Float32Array;
  /**
   * A variation's starting sample at level `k`: every frame with a kept latent (the free span's too) is that latent
   * at level k; frames without one are `initial` (the standard normal initial noise) scaled to the level.
   */
  vary(k: number, initial: Float32Array): Float32Array;
  /** The sample after step `k` (now at level k + 1) with the held frames at that level. */
  afterStep(k: number, sample: Float32Array): Float32Array;
  /** The sample after step `k` (level k + 1) taken back to level k for another round of step k, with `noise`. */
  resample(k: number, sample: Float32Array, noise: Float32Array): Float32Array;
  /** How many times each step but the last is taken (RePaint rounds, ≥ 1). */
  readonly rounds: number;
  /** The assembled context over the piece's frames (for tests and reports). */
  readonly context: LatentContext;
}

/**
 * The context of `spec` for a piece of `piece.frames` frames that sits at canvas frames [offset, offset + frames)
 * of a latent canvas of `canvas.frames` frames (the pipeline may pad the canvas beyond the piece). Held frames get
 * the kept latent at each level with noise drawn per absolute frame (`noiseAt(level, canvasLayout)`: the caller's
 * frameNoise of kind `context`); at the last level, the kept latent itself.
 */
export function contextRunner(
  spec: ContextSpec,
  piece: ContextLayout,
  canvas: { frames: number; offset: number },
  framesPerSecond: number,
  levels: { steps: number; levelAt(k: number): NoiseLevel },
  noiseAt: (level: number) => Float32Array,
): ContextRunner {
  const { channels: C, bins: Fq } = piece;
  const context = assembleContext(spec, piece, framesPerSecond);
  // The context over the whole canvas: padding frames are free.
  const known = new Float32Array(C * canvas.frames * Fq);
  const hold = new Float32Array(canvas.frames);
  for (let t = 0; t < piece.frames; t++) {
    hold[canvas.offset + t] = context.hold[t];
    for (let c = 0; c < C; c++) known.set(context.known.subarray((c * piece.frames + t) * Fq, (c * piece.frames + t + 1) * Fq), (c * canvas.frames + canvas.offset + t) * Fq);
  }
  const onCanvas: LatentContext = { known, hold };
  const layout = { channels: C, frames: canvas.frames, bins: Fq };
  const at = (level: number, sample: Float32Array): Float32Array =>
    level === levels.steps
      ? holdToContext(sample, onCanvas, { signal: 1, noise: 0 }, new Float32Array(sample.length), layout)
      : holdToContext(sample, onCanvas, levels.levelAt(level), noiseAt(level), layout);
  const has = context.has ?? Uint8Array.from(context.hold, (h) => (h > 0 ? 1 : 0));
  const vary = (k: number, initial: Float32Array): Float32Array => {
    const level = levels.levelAt(k);
    const everywhere: LatentContext = { known, hold: Float32Array.from(hold, (_, t) => (t >= canvas.offset && t < canvas.offset + piece.frames && has[t - canvas.offset] === 1 ? 1 : 0)) };
    return holdToContext(initial.map((x) => x * level.noise), everywhere, level, noiseAt(k), layout);
  };
  const resample = (k: number, sample: Float32Array, noise: Float32Array): Float32Array => renoise(sample, levels.levelAt(k + 1), levels.levelAt(k), noise);
  return { context, start: (sample) => at(0, sample), vary, afterStep: (k, sample) => at(k + 1, sample), resample, rounds: spec.rounds ?? 1 };
}
