/**
 * One fused model prediction over a long latent (research/longform.md §1): every window × condition is evaluated
 * (batched, with classifier-free guidance rows), and the guided outputs are averaged per frame with weights
 * w_window(n)·w_condition(t) that sum to one after normalisation:
 *   ε̂[t] = Σ_i Σ_k w_i(t − a_i)·r_k(t)·ε̂_{i,k}[t] / Σ_i Σ_k w_i(t − a_i)·r_k(t).
 * The caller then takes ONE scheduler step on the whole latent with one global noise draw.
 */
import { throwIfAborted } from '../errors.ts';
import { outputSpaceGuidance, type ConditionContext, type GuidanceRule } from './guidance.ts';
import { JoinLevelMatch } from './regions.ts';
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
  /**
   * Unconditional / negative embedding, read for guided conditions. For an unguided condition at level-matched
   * joins: the row of its reference, the window's baseline job (conditions that share one array share the job).
   */
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

/**
 * A window × condition evaluation. A `baseline` job evaluates the condition's `uncond` row alone: the reference of
 * level matching at joins for every unguided condition that shares that array.
 */
interface Job {
  start: number;
  condition: number;
  baseline?: boolean;
}

/** What job planning reads of a condition (`guidance` and `uncond` only when joins are level-matched). */
export type PlannedCondition = Pick<TiledCondition, 'weights'> & Partial<Pick<TiledCondition, 'guidance' | 'uncond'>>;

/** For each unguided condition, the first unguided condition with the same `uncond` array (their shared baseline job); −1 otherwise. */
function baselineGroups(conditions: readonly PlannedCondition[]): number[] {
  const unguided = (c: PlannedCondition): boolean => (c.guidance ?? 1) <= 1 && c.uncond !== undefined && c.uncond.length > 0;
  return conditions.map((c) => (unguided(c) ? conditions.findIndex((o) => unguided(o) && o.uncond === c.uncond) : -1));
}

/**
 * Lists the jobs of a step: every window with every condition that has weight inside it. With `joins` (level
 * matching), a window that holds a join frame first evaluates the `uncond` row of its unguided conditions, once per
 * distinct array.
 */
export function planJobs(starts: readonly number[], conditions: readonly PlannedCondition[], window: number, joins?: Pick<JoinLevelMatch, 'touches'>): Job[] {
  const jobs: Job[] = [];
  const groups = joins ? baselineGroups(conditions) : [];
  for (const start of starts) {
    const present = conditions.map((c) => {
      for (let n = 0; n < window; n++) if (c.weights[start + n] > 0) return true;
      return false;
    });
    if (joins?.touches(start, window)) {
      const seen = new Set<number>();
      present.forEach((p, k) => {
        if (!p || groups[k] < 0 || seen.has(groups[k])) return;
        seen.add(groups[k]);
        jobs.push({ start, condition: groups[k], baseline: true });
      });
    }
    present.forEach((p, k) => {
      if (p) jobs.push({ start, condition: k });
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
  options: { signal?: AbortSignal; onBatch?: BatchProgress; guidance?: TiledGuidance; levelMatchJoins?: boolean } = {},
): Promise<Float32Array> {
  const { channels: C, frames: T, bins: Fq, window: W, pad = 0 } = layout;
  const guide = options.guidance?.rule ?? outputSpaceGuidance;
  const piece = options.guidance?.piece ?? { seconds: 0, frames: T - 2 * pad, window: W };
  // Level matching at region joins (regions.ts#JoinLevelMatch): each condition's output is measured from its
  // reference, a guided condition's own CFG row or, for an unguided one, the window's baseline job. It works on the
  // canvas (its weights and frames); the padding holds one condition only, so its frames are never joins.
  const joins = options.levelMatchJoins && conditions.length > 1 ? new JoinLevelMatch(conditions.map((c) => c.weights), { channels: C, frames: T, bins: Fq }) : undefined;
  const jobs = planJobs(starts, conditions, W, joins);
  const groups = joins ? baselineGroups(conditions) : [];
  const baselines = new Map<string, Float32Array>();
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
    const rowsOf = batch.map((j) => (!j.baseline && conditions[j.condition].guidance > 1 ? 2 : 1));
    const rows = rowsOf.reduce((a, b) => a + b, 0);
    const sample = new Float32Array(rows * C * plane);
    const labels = new Float32Array(rows * dim);
    const rowStarts: number[] = [];
    let row = 0;
    for (const job of batch) {
      const c = conditions[job.condition];
      const copies = job.baseline ? [c.uncond] : c.guidance > 1 ? [c.uncond, c.cond] : [c.cond];
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
      if (job.baseline) {
        baselines.set(`${job.start}:${job.condition}`, out.subarray(row * size, (row + 1) * size));
        row++;
        continue;
      }
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
      const reference = !joins ? undefined : guided ? out.subarray(u * size, (u + 1) * size) : baselines.get(`${job.start}:${groups[job.condition]}`);
      const accumulator = acc as Float64Array;
      for (let n = 0; n < W; n++) {
        const weight = profile[n] * c.weights[job.start + n];
        if (weight === 0) continue;
        wsum[job.start + n] += weight;
        if (reference) joins?.addFrame(job.start + n, n, weight, e, reference, plane);
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
  joins?.apply(out);
  return out;
}
