/**
 * One fused model prediction over a long latent (research/longform.md §1): every window × condition is evaluated
 * (batched, with classifier-free guidance rows), and the guided outputs are averaged per frame with weights
 * w_window(n)·w_condition(t) that sum to one after normalisation:
 *   ε̂[t] = Σ_i Σ_k w_i(t − a_i)·r_k(t)·ε̂_{i,k}[t] / Σ_i Σ_k w_i(t − a_i)·r_k(t).
 * The caller then takes ONE scheduler step on the whole latent with one global noise draw.
 */
import { throwIfAborted } from '../errors.ts';
import { outputSpaceGuidance, type ConditionContext, type GuidanceRule } from './guidance.ts';
import { f32, type F32 } from '../tensor/tensor.ts';

/**
 * Runs the denoiser on a batch: sample [R, C, W, Fq], one timestep, labels [R, D] and each row's window start in
 * the piece's frames (negative, or reaching past the piece's end, for windows in a padded canvas's padding)
 * → the model output [R, C, W, Fq].
 */
export type BatchDenoiser = (sample: F32, timestep: number, labels: F32, starts: readonly number[]) => Promise<F32>;

/** A condition as the tiler needs it: embeddings, guidance and per-frame weight. */
export interface TiledCondition {
  /** Conditional embedding (one row, D values). */
  cond: Float32Array;
  /** Unconditional / negative embedding. */
  uncond: Float32Array;
  /** Guidance scale; ≤ 1 evaluates the conditional row only. */
  guidance: number;
  /** Weight of this condition at every latent frame (all conditions sum to one per frame). */
  weights: Float32Array;
}

/** Geometry and batching of a tiled prediction. */
export interface TiledLayout {
  channels: number;
  frames: number;
  bins: number;
  /** Window length in frames (≤ frames). */
  window: number;
  /** Maximum window × condition jobs per denoiser call (each job is 1 or 2 rows). */
  windowBatch: number;
  /**
   * Frames of the canvas before the piece's first frame (plan.ts#planCanvas; default 0). `frames`, the latent, the
   * weights and the window starts are the canvas's; the denoiser and the guidance rule get starts in the piece's
   * frames (start − pad), the coordinates a family masks and conditions by.
   */
  pad?: number;
}

/** How guided rows combine, and the piece they belong to (both default to plain CFG on the model output). */
export interface TiledGuidance {
  rule: GuidanceRule;
  piece: ConditionContext;
}

/** Progress inside one step: jobs evaluated so far out of the step's total. */
export type BatchProgress = (done: number, total: number) => void;

/** A window × condition evaluation. */
interface Job {
  start: number;
  condition: number;
}

/** Lists the jobs of a step: every window with every condition that has weight inside it. */
export function planJobs(starts: readonly number[], conditions: readonly Pick<TiledCondition, 'weights'>[], window: number): Job[] {
  const jobs: Job[] = [];
  for (const start of starts) {
    conditions.forEach((c, k) => {
      for (let n = 0; n < window; n++) {
        if (c.weights[start + n] > 0) {
          jobs.push({ start, condition: k });
          return;
        }
      }
    });
  }
  return jobs;
}

/**
 * Fused prediction for latent `x` (flat [1, C, T, Fq]) at `timestep`, over windows starting at `starts` with the
 * per-frame window `profile`. Cancellation is checked before every denoiser call.
 */
export async function predictTiled(
  denoise: BatchDenoiser,
  layout: TiledLayout,
  conditions: readonly TiledCondition[],
  x: Float32Array,
  timestep: number,
  starts: readonly number[],
  profile: Float32Array,
  options: { signal?: AbortSignal; onBatch?: BatchProgress; guidance?: TiledGuidance } = {},
): Promise<Float32Array> {
  const { channels: C, frames: T, bins: Fq, window: W, pad = 0 } = layout;
  const guide = options.guidance?.rule ?? outputSpaceGuidance;
  const piece = options.guidance?.piece ?? { seconds: 0, frames: T - 2 * pad, window: W };
  const jobs = planJobs(starts, conditions, W);
  const plane = W * Fq;
  const dim = conditions[0].cond.length;
  // A single job covering the whole latent with weight 1 everywhere needs no averaging (and stays bit-exact).
  const single = jobs.length === 1 && W === T && conditions.length === 1;
  const acc = single ? undefined : new Float64Array(C * T * Fq);
  const wsum = new Float64Array(T);
  let result: Float32Array | undefined;

  for (let first = 0; first < jobs.length; first += layout.windowBatch) {
    throwIfAborted(options.signal, 'denoise');
    const batch = jobs.slice(first, first + layout.windowBatch);
    const rowsOf = batch.map((j) => (conditions[j.condition].guidance > 1 ? 2 : 1));
    const rows = rowsOf.reduce((a, b) => a + b, 0);
    const sample = new Float32Array(rows * C * plane);
    const labels = new Float32Array(rows * dim);
    const rowStarts: number[] = [];
    let row = 0;
    for (const job of batch) {
      const c = conditions[job.condition];
      const copies = c.guidance > 1 ? [c.uncond, c.cond] : [c.cond];
      for (const emb of copies) {
        for (let ch = 0; ch < C; ch++) sample.set(x.subarray((ch * T + job.start) * Fq, (ch * T + job.start) * Fq + plane), (row * C + ch) * plane);
        labels.set(emb, row * dim);
        rowStarts.push(job.start - pad);
        row++;
      }
    }
    const out = (await denoise(f32(sample, [rows, C, W, Fq]), timestep, f32(labels, [rows, dim]), rowStarts)).data;
    const size = C * plane;
    row = 0;
    for (const job of batch) {
      const c = conditions[job.condition];
      const guided = c.guidance > 1;
      const u = row;
      const k = guided ? row + 1 : row;
      row += guided ? 2 : 1;
      const cond = out.subarray(k * size, (k + 1) * size);
      const e: Float32Array | Float64Array = guided
        ? guide({ x: sample.subarray(k * size, (k + 1) * size), cond, uncond: out.subarray(u * size, (u + 1) * size), timestep, scale: c.guidance, start: job.start - pad, window: W, piece })
        : cond;
      if (single) {
        result = new Float32Array(e);
        continue;
      }
      const accumulator = acc as Float64Array;
      for (let n = 0; n < W; n++) {
        const weight = profile[n] * c.weights[job.start + n];
        if (weight === 0) continue;
        wsum[job.start + n] += weight;
        for (let ch = 0; ch < C; ch++) {
          const src = ch * plane + n * Fq;
          const dst = (ch * T + job.start + n) * Fq;
          for (let f = 0; f < Fq; f++) accumulator[dst + f] += weight * e[src + f];
        }
      }
    }
    options.onBatch?.(Math.min(first + layout.windowBatch, jobs.length), jobs.length);
  }
  if (single && result) return result;
  const out = new Float32Array(C * T * Fq);
  const accumulator = acc as Float64Array;
  for (let t = 0; t < T; t++) {
    if (!(wsum[t] > 0)) throw new Error(`tiling left latent frame ${t} uncovered (weight sum ${wsum[t]}); this is a bug in window planning`);
  }
  for (let ch = 0; ch < C; ch++) {
    for (let t = 0; t < T; t++) {
      const inv = 1 / wsum[t];
      const base = (ch * T + t) * Fq;
      for (let f = 0; f < Fq; f++) out[base + f] = accumulator[base + f] * inv;
    }
  }
  return out;
}
