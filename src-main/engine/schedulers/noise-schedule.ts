/**
 * Training-time noise schedule (β, ᾱ) and inference timestep spacing, shared by every sampler.
 *
 * | symbol | here                 | meaning                                              |
 * |--------|----------------------|------------------------------------------------------|
 * | T      | `trainTimesteps`     | number of training timesteps                         |
 * | N      | `steps`              | number of inference steps (model evaluations)        |
 * | β_i    | `betas(config)[i]`   | per-step noise variance, i ∈ [0, T)                  |
 * | ᾱ_i    | `alphasCumprod()[i]` | ∏_{j≤i} (1 − β_j); x_i = √ᾱ_i·x_0 + √(1−ᾱ_i)·ε      |
 *
 * Everything is float64: diffusers uses float32 torch ops, the original AudioLDM float64 numpy; the two differ by
 * ≈1e-7 relative (research/audioldm.md §4), and float64 is the reference.
 */
import type { NoiseScheduleConfig, StepInput } from './types.ts';

/** Timestep spacing rule (diffusers `timestep_spacing`). */
export type TimestepSpacing = NoiseScheduleConfig['timestepSpacing'];

/** `np.linspace(start, stop, num)` bit for bit: i·step + start, with the endpoint pinned to `stop`. */
function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/** numpy's `round` (half to even); matters for linspace grids, e.g. 499.5 → 500 but 250.5 → 250. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Throws unless the schedule constants describe a usable schedule. */
function checkConfig(config: NoiseScheduleConfig): void {
  const { trainTimesteps: T, betaStart, betaEnd } = config;
  if (!Number.isInteger(T) || T < 2) {
    throw new RangeError(`trainTimesteps must be an integer ≥ 2, got ${T}`);
  }
  for (const [name, beta] of [['betaStart', betaStart], ['betaEnd', betaEnd]] as const) {
    if (!(beta > 0 && beta < 1)) throw new RangeError(`${name} must lie in (0, 1), got ${beta}`);
  }
}

/** β_i for i ∈ [0, T): `scaled_linear` interpolates √β linearly then squares; `linear` interpolates β. */
export function betas(config: NoiseScheduleConfig): Float64Array {
  checkConfig(config);
  const { trainTimesteps: T, betaStart, betaEnd, betaSchedule } = config;
  switch (betaSchedule) {
    case 'scaled_linear':
      return Float64Array.from(linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), T), (r) => r * r);
    case 'linear':
      return Float64Array.from(linspace(betaStart, betaEnd, T));
    default: {
      const unknown: never = betaSchedule;
      throw new RangeError(`betaSchedule ${String(unknown)} is not one of scaled_linear, linear`);
    }
  }
}

/** ᾱ_i = ∏_{j≤i} (1 − β_j) for i ∈ [0, T) (diffusers `alphas_cumprod`). */
export function alphasCumprod(config: NoiseScheduleConfig): Float64Array {
  const beta = betas(config);
  const out = new Float64Array(beta.length);
  let prod = 1;
  for (let i = 0; i < beta.length; i++) {
    prod *= 1 - beta[i];
    out[i] = prod;
  }
  return out;
}

/** Throws a RangeError unless `steps` is an integer in 1..T. */
export function checkSteps(config: NoiseScheduleConfig, steps: number): void {
  const T = config.trainTimesteps;
  if (!Number.isInteger(steps) || steps < 1 || steps > T) {
    throw new RangeError(`steps must be an integer from 1 to ${T} (trainTimesteps), got ${steps}`);
  }
}

/** Rejects grids a sampler cannot walk: every t must index ᾱ and the list must strictly descend. */
function checkGrid(config: NoiseScheduleConfig, steps: number, spacing: TimestepSpacing, ts: number[]): number[] {
  const T = config.trainTimesteps;
  ts.forEach((t, k) => {
    if (t < 0 || t > T - 1) {
      throw new RangeError(
        `steps ${steps} with ${spacing} spacing and stepsOffset ${config.stepsOffset} gives timestep ${t}, ` +
          `outside 0..${T - 1}; use fewer steps or another spacing`,
      );
    }
    if (k > 0 && t >= ts[k - 1]) {
      throw new RangeError(
        `steps ${steps} with ${spacing} spacing repeats timestep ${t}; use fewer steps or another spacing`,
      );
    }
  });
  return ts;
}

/**
 * DDIM-style timesteps, descending, N entries (diffusers `DDIMScheduler.set_timesteps`):
 * leading t_k = (N−1−k)·⌊T/N⌋ + offset; linspace round(linspace(0, T−1, N)); trailing round(T − k·T/N) − 1.
 */
export function spacedTimesteps(config: NoiseScheduleConfig, steps: number): number[] {
  checkSteps(config, steps);
  const T = config.trainTimesteps;
  const spacing = config.timestepSpacing;
  let ts: number[];
  switch (spacing) {
    case 'leading': {
      const r = Math.floor(T / steps);
      ts = Array.from({ length: steps }, (_, k) => (steps - 1 - k) * r + config.stepsOffset);
      break;
    }
    case 'linspace':
      ts = linspace(0, T - 1, steps).map(roundHalfEven).reverse();
      break;
    case 'trailing': {
      // NOTE: np.arange(T, 0, −T/N) fills T + k·δ with δ = (T − T/N) − T, not −T/N, and that rounding decides
      // ties such as 937.5 (N = 48); mirror it. numpy also sometimes yields N+1 entries (N = 61, 103, …: the extra
      // one rounds to −1); we take exactly the N intended entries.
      const delta = T - T / steps - T;
      ts = Array.from({ length: steps }, (_, k) => roundHalfEven(T + k * delta) - 1);
      break;
    }
    default: {
      const unknown: never = spacing;
      throw new RangeError(`timestepSpacing ${String(unknown)} is not one of leading, linspace, trailing`);
    }
  }
  return checkGrid(config, steps, spacing, ts);
}

/**
 * Multistep-solver timesteps, descending, N entries (diffusers `DPMSolverMultistepScheduler.set_timesteps`): an
 * N+1-point grid whose smallest point is dropped, because the solver's last step lands on σ = 0 instead.
 * linspace round(linspace(0, T−1, N+1))[::-1][:-1]; leading (k·⌊T/(N+1)⌋)[::-1][:-1] + offset; trailing as DDIM.
 */
export function solverTimesteps(config: NoiseScheduleConfig, steps: number, spacing: TimestepSpacing): number[] {
  checkSteps(config, steps);
  const T = config.trainTimesteps;
  let ts: number[];
  switch (spacing) {
    case 'linspace':
      ts = linspace(0, T - 1, steps + 1).map(roundHalfEven).reverse().slice(0, steps);
      break;
    case 'leading': {
      const r = Math.floor(T / (steps + 1));
      ts = Array.from({ length: steps }, (_, k) => (steps - k) * r + config.stepsOffset);
      break;
    }
    case 'trailing':
      return spacedTimesteps({ ...config, timestepSpacing: 'trailing' }, steps);
    default: {
      const unknown: never = spacing;
      throw new RangeError(`timestepSpacing ${String(unknown)} is not one of leading, linspace, trailing`);
    }
  }
  return checkGrid(config, steps, spacing, ts);
}

/**
 * Checks one step's arrays (shared by all samplers); returns the noise when the step needs it, else undefined.
 * Lengths must match because a silent mismatch would read `undefined` as NaN deep inside the latent.
 */
export function checkStepInput(input: StepInput, needsNoise: boolean): Float32Array | undefined {
  const n = input.sample.length;
  if (input.modelOutput.length !== n) {
    throw new RangeError(`modelOutput has ${input.modelOutput.length} values but sample has ${n}; they must match`);
  }
  if (!needsNoise) return undefined;
  if (input.noise === undefined) {
    throw new RangeError(`step ${input.stepIndex} needs noise (η > 0) but none was given; pass N(0, I) noise`);
  }
  if (input.noise.length !== n) {
    throw new RangeError(`noise has ${input.noise.length} values but sample has ${n}; they must match`);
  }
  return input.noise;
}
