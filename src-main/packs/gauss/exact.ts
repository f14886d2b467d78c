/**
 * Exact answers for the `sketch-gp` test oracle (docs/GAUSS.md), in float64 and independent of ONNX: the data are a
 * stationary Gaussian process along time, each of the C·Fq latent elements on its own, x₀[t] = μ[t] + z[t] with z an
 * AR(1) process, Cov(z_t, z_u) = s²·ρ^|t−u|, ρ = exp(−1/ℓ).
 *
 * | symbol | here | meaning |
 * |---|---|---|
 * | s | `std` | the process's standard deviation (recipe `latentStd`) |
 * | ρ | `rho` | lag-one correlation, exp(−1/ℓ), ℓ = recipe `correlationFrames` |
 * | ᾱ | `alphaProd` | signal level²: x_t = √ᾱ·x₀ + √(1−ᾱ)·ε |
 * | v | | (1−ᾱ)/ᾱ, the noise variance of x_t/√ᾱ as an observation of x₀ |
 * | Q | | Σ⁻¹ = (s²K)⁻¹, tridiagonal for AR(1): (1/(s²(1−ρ²)))·tridiag(−ρ; 1, 1+ρ², …, 1+ρ², 1; −ρ) |
 *
 * The posterior mean of x₀ given x_t is x̂₀ = μ + (Q + I/v)⁻¹·(x_t/√ᾱ − μ)/v (a tridiagonal solve, Thomas algorithm,
 * O(T) per element), and the optimal ε-prediction is ε̂ = (x_t − √ᾱ·x̂₀)/√(1−ᾱ). This is the same estimator the pack's
 * UNet computes through an eigendecomposition of the window's K; the two routes share no code, which is what lets a
 * test check one against the other.
 *
 * Pure: no I/O, no ONNX. The packs layer may import the engine's schedulers, so the whole-piece sampler below walks
 * exactly the engine's DDIM timesteps and ᾱ table; the initial noise comes from the caller (engine/longform/noise.ts
 * frameNoise, which the packs layer may not import).
 */
import { createDdimScheduler } from '../../engine/schedulers/ddim.ts';
import type { NoiseScheduleConfig } from '../../engine/schedulers/types.ts';

/** The prior of one latent element along time: standard deviation s and lag-one correlation ρ. */
export interface GaussPrior {
  std: number;
  rho: number;
}

/** A latent's layout [1, C, T, Fq] (flat index (c·T + t)·Fq + q). */
export interface GaussLayout {
  channels: number;
  frames: number;
  bins: number;
}

/** ρ = exp(−1/ℓ) for a correlation length of ℓ frames. */
export function correlationOf(correlationFrames: number): number {
  if (!(correlationFrames > 0)) throw new RangeError(`correlation length ${correlationFrames} frames must be > 0`);
  return Math.exp(-1 / correlationFrames);
}

/**
 * The exact ε-prediction for latent `x` (flat [1, C, T, Fq]) at level ᾱ when x₀'s mean is `mean` (same layout, per
 * frame: a constant prompt mean, or a region-weighted blend) and z is the AR(1) process of `prior` over these T frames.
 * Also returns x̂₀. Float64 throughout.
 */
export function exactDenoise(prior: GaussPrior, layout: GaussLayout, x: ArrayLike<number>, mean: ArrayLike<number>, alphaProd: number): { eps: Float64Array; x0: Float64Array } {
  const { channels: C, frames: T, bins: Fq } = layout;
  if (x.length !== C * T * Fq || mean.length !== x.length) throw new RangeError(`latent of ${x.length} values and mean of ${mean.length} do not fit [${C}, ${T}, ${Fq}]`);
  return runDenoise(prior, layout, false, false, x, mean, alphaProd);
}

/** What {@link exactDdim} samples: the prior, the layout, the starting noise and the data's mean per frame. */
export interface ExactDdimInput {
  prior: GaussPrior;
  layout: GaussLayout;
  /** The model's training schedule (the pack manifest's `scheduler`). */
  schedule: NoiseScheduleConfig;
  steps: number;
  /** x_T, flat [1, C, T, Fq] (the engine's frameNoise of kind `initial` for the same seed and frames). */
  initial: ArrayLike<number>;
  /**
   * x₀'s mean per frame, flat [1, C, T, Fq]. With classifier-free guidance g the engine mixes u + g·(c − u); the
   * denoiser is affine in the mean with a mean-independent slope, so that mix is exactly the denoiser of the mean
   * μ_u + g·(μ_c − μ_u): pass that ({@link guidedMean}).
   */
  mean: ArrayLike<number>;
  /**
   * Frames whose value is known (conditional sampling): 1 = held at `known`, 0 = sampled. The exact conditional of
   * the free frames given the held ones, sampled by the same DDIM ODE from the same x_T (held frames are not
   * denoised; they enter through the posterior's coupling).
   */
  held?: { mask: Uint8Array; known: ArrayLike<number> };
}

/**
 * Deterministic DDIM (η = 0) over the whole latent with the exact whole-piece denoiser: the answer tiled sampling
 * approximates. Uses the engine's DDIM timesteps and ᾱ table (createDdimScheduler) and its update rule.
 */
export function exactDdim(input: ExactDdimInput): Float64Array {
  const { prior, layout, schedule, steps, initial, mean, held } = input;
  const scheduler = createDdimScheduler(schedule, steps, { eta: 0 });
  if (!held) {
    let x = Float64Array.from(initial);
    for (let k = 0; k < scheduler.timesteps.length; k++) {
      const { alphaProd, alphaProdPrev } = scheduler.stepAlphas(k);
      const { eps, x0 } = exactDenoise(prior, layout, x, mean, alphaProd);
      x = x.map((_, i) => Math.sqrt(alphaProdPrev) * x0[i] + Math.sqrt(1 - alphaProdPrev) * eps[i]);
    }
    return x;
  }
  return conditionalDdim(input, held, scheduler);
}

/**
 * Conditional sampling: the free frames form runs between held frames; the AR(1) prior is Markov, so each run's
 * conditional given the held frames is Gaussian with precision Q restricted to the run and mean
 * μ_run − Q_run⁻¹·Q_run,held·(x_held − μ_held), which only the held frames next to the run enter. Each run is sampled by
 * DDIM from its own x_T; held frames end as `known`.
 */
function conditionalDdim(input: ExactDdimInput, held: NonNullable<ExactDdimInput['held']>, scheduler: ReturnType<typeof createDdimScheduler>): Float64Array {
  const { prior, layout, initial, mean } = input;
  const { channels: C, frames: T, bins: Fq } = layout;
  const { std: s, rho } = prior;
  const out = Float64Array.from(held.known);
  const runs: Array<[number, number]> = [];
  for (let t = 0; t < T; ) {
    if (held.mask[t]) {
      t++;
      continue;
    }
    let e = t;
    while (e < T && !held.mask[e]) e++;
    runs.push([t, e]);
    t = e;
  }
  for (const [from, to] of runs) {
    const n = to - from;
    // Conditional mean of the run: solve Q_run·d = −Q_run,held·(x_held − μ_held). Q's off-diagonal is −ρ/(s²(1−ρ²)).
    const k = 1 / (s * s * (1 - rho * rho));
    const condMean = new Float64Array(C * n * Fq);
    for (let c = 0; c < C; c++) {
      for (let q = 0; q < Fq; q++) {
        const at = (t: number): number => (c * T + t) * Fq + q;
        const rhs = new Float64Array(n);
        if (from > 0) rhs[0] += k * rho * (held.known[at(from - 1)] - mean[at(from - 1)]);
        if (to < T) rhs[n - 1] += k * rho * (held.known[at(to)] - mean[at(to)]);
        const d = solveRunPrecision(prior, n, from > 0, to < T, rhs);
        for (let t = 0; t < n; t++) condMean[(c * n + t) * Fq + q] = mean[at(from + t)] + d[t];
      }
    }
    // The run's conditional prior: mean condMean, precision Q_run (the interior diagonal where a held neighbour
    // exists). Denoise with it, sampling the run by DDIM from its own x_T.
    let x = new Float64Array(C * n * Fq);
    for (let c = 0; c < C; c++) for (let t = 0; t < n; t++) for (let q = 0; q < Fq; q++) x[(c * n + t) * Fq + q] = initial[(c * T + from + t) * Fq + q];
    for (let step = 0; step < scheduler.timesteps.length; step++) {
      const { alphaProd, alphaProdPrev } = scheduler.stepAlphas(step);
      const { eps, x0 } = runDenoise(prior, { channels: C, frames: n, bins: Fq }, from > 0, to < T, x, condMean, alphaProd);
      x = x.map((_, i) => Math.sqrt(alphaProdPrev) * x0[i] + Math.sqrt(1 - alphaProdPrev) * eps[i]);
    }
    for (let c = 0; c < C; c++) for (let t = 0; t < n; t++) for (let q = 0; q < Fq; q++) out[(c * T + from + t) * Fq + q] = x[(c * n + t) * Fq + q];
  }
  return out;
}

/** Q restricted to a run of n frames, plus I/v (v = ∞ for none): diagonals of the tridiagonal matrix. */
function runMatrix(prior: GaussPrior, n: number, heldBefore: boolean, heldAfter: boolean, invV: number): { diag: Float64Array; off: number } {
  const { std: s, rho } = prior;
  const k = 1 / (s * s * (1 - rho * rho));
  const diag = new Float64Array(n).fill(k * (1 + rho * rho) + invV);
  // The process's own ends have diagonal k; a run end next to a held frame keeps the interior value.
  if (!heldBefore) diag[0] = k + invV;
  if (!heldAfter) diag[n - 1] = k + invV;
  if (n === 1 && !heldBefore && !heldAfter) diag[0] = 1 / (s * s) + invV;
  return { diag, off: -k * rho };
}

/** Thomas algorithm for a symmetric tridiagonal system with constant off-diagonal. */
function thomas(diag: Float64Array, off: number, rhs: Float64Array): Float64Array {
  const n = diag.length;
  const c = new Float64Array(n);
  const y = new Float64Array(n);
  let denom = diag[0];
  c[0] = off / denom;
  y[0] = rhs[0] / denom;
  for (let t = 1; t < n; t++) {
    denom = diag[t] - off * c[t - 1];
    c[t] = off / denom;
    y[t] = (rhs[t] - off * y[t - 1]) / denom;
  }
  for (let t = n - 2; t >= 0; t--) y[t] -= c[t] * y[t + 1];
  return y;
}

function solveRunPrecision(prior: GaussPrior, n: number, heldBefore: boolean, heldAfter: boolean, rhs: Float64Array): Float64Array {
  const { diag, off } = runMatrix(prior, n, heldBefore, heldAfter, 0);
  return thomas(diag, off, rhs);
}

/**
 * The posterior mean x̂₀ = μ + (Q_run + I/v)⁻¹·(x/√ᾱ − μ)/v and ε̂ for frames whose prior precision is Q restricted to
 * them: the whole process (no held neighbours), or a run between held frames (conditional on them).
 */
function runDenoise(prior: GaussPrior, layout: GaussLayout, heldBefore: boolean, heldAfter: boolean, x: ArrayLike<number>, mean: ArrayLike<number>, alphaProd: number): { eps: Float64Array; x0: Float64Array } {
  const { channels: C, frames: n, bins: Fq } = layout;
  const sa = Math.sqrt(alphaProd);
  const sn = Math.sqrt(1 - alphaProd);
  const v = (1 - alphaProd) / alphaProd;
  const { diag, off } = runMatrix(prior, n, heldBefore, heldAfter, 1 / v);
  const eps = new Float64Array(x.length);
  const x0 = new Float64Array(x.length);
  const b = new Float64Array(n);
  for (let c = 0; c < C; c++) {
    for (let q = 0; q < Fq; q++) {
      for (let t = 0; t < n; t++) b[t] = (x[(c * n + t) * Fq + q] / sa - mean[(c * n + t) * Fq + q]) / v;
      const y = thomas(diag, off, b);
      for (let t = 0; t < n; t++) {
        const i = (c * n + t) * Fq + q;
        x0[i] = mean[i] + y[t];
        eps[i] = (x[i] - sa * x0[i]) / sn;
      }
    }
  }
  return { eps, x0 };
}

/**
 * The mean per frame that a request's conditions make, flat [1, C, T, Fq]: Σ_k r_k(t)·(μ_u,k + g_k·(μ_c,k − μ_u,k))
 * for conditions with per-frame weights r_k (regions.ts conditionWeights), prompt means μ_c,k, negative-prompt means
 * μ_u,k and guidance g_k (≤ 1: the prompt's mean alone, as the engine evaluates only the conditional row). Means are
 * [C·Fq] (channel-major).
 */
export function guidedMean(layout: GaussLayout, conditions: ReadonlyArray<{ weights: ArrayLike<number>; cond: ArrayLike<number>; uncond: ArrayLike<number>; guidance: number }>): Float64Array {
  const { channels: C, frames: T, bins: Fq } = layout;
  const out = new Float64Array(C * T * Fq);
  for (const { weights, cond, uncond, guidance } of conditions) {
    if (weights.length !== T) throw new RangeError(`a condition has weights for ${weights.length} frames; the latent has ${T}`);
    const g = guidance > 1 ? guidance : 1;
    for (let c = 0; c < C; c++) {
      for (let q = 0; q < Fq; q++) {
        const m = guidance > 1 ? uncond[c * Fq + q] + g * (cond[c * Fq + q] - uncond[c * Fq + q]) : cond[c * Fq + q];
        for (let t = 0; t < T; t++) out[(c * T + t) * Fq + q] += weights[t] * m;
      }
    }
  }
  return out;
}
