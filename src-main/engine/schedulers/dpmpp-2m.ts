/**
 * DPM-Solver++(2M) (Lu et al. 2022, arXiv:2211.01095, Alg. 2): a second-order multistep solver of the probability-flow
 * ODE in data-prediction (x̂_0) form, as diffusers `DPMSolverMultistepScheduler` with `algorithm_type="dpmsolver++"`,
 * `solver_order=2`, `solver_type="midpoint"`, `lower_order_final=true`, `final_sigmas_type="zero"`, no thresholding.
 *
 * | symbol | here           | meaning                                                               |
 * |--------|----------------|-----------------------------------------------------------------------|
 * | x_s    | `sample`       | current latent at timestep s = s0                                     |
 * | ε      | `modelOutput`  | guided noise prediction at (x_s, s)                                   |
 * | α_s    | `alpha`        | √ᾱ_s (signal scale)                                                   |
 * | σ_s    | `sigma`        | √(1 − ᾱ_s) (noise scale); 0 after the last step                       |
 * | λ_s    | `lambda`       | log α_s − log σ_s (half log-SNR); +∞ after the last step              |
 * | m0, m1 | `x0`, `prevX0` | x̂_0 at the current and the previous step                             |
 * | h, h0  |                | λ_t − λ_s0 (this step), λ_s0 − λ_s1 (previous step); r0 = h0 / h      |
 *
 * Order schedule: the first step is first order (no history yet); the last step is first order because it lands on
 * σ = 0 (λ = +∞, so r0 would be 0) and then returns x̂_0 exactly; every other step is second order.
 */
import { alphasCumprod, checkStepInput, solverTimesteps } from './noise-schedule.ts';
import type { TimestepSpacing } from './noise-schedule.ts';
import { checkLevel, type NoiseScheduleConfig, type Scheduler, type StepInput } from './types.ts';

/** Multistep history; immutable, a new object per step. */
export interface Dpmpp2mState {
  /** x̂_0 from the previous step (m1), or null before the first step. */
  readonly prevX0: Float32Array | null;
  /** λ at the previous step's timestep (λ_s1); NaN before the first step. */
  readonly prevLambda: number;
}

/** Options for {@link createDpmpp2mScheduler}. */
export interface Dpmpp2mOptions {
  /**
   * Timestep spacing; default `linspace` (diffusers' default for this scheduler, and what it is tuned for), NOT the
   * model config's spacing, which belongs to the DDIM the model shipped with.
   */
  timestepSpacing?: TimestepSpacing;
}

/** Noise level at one point of the solver grid. */
interface GridPoint {
  alpha: number;
  sigma: number;
  lambda: number;
}

/** Creates a DPM-Solver++(2M) sampler over `steps` timesteps (`linspace`: round(linspace(0, T−1, N+1))[::-1][:-1]). */
export function createDpmpp2mScheduler(
  config: NoiseScheduleConfig,
  steps: number,
  options: Dpmpp2mOptions = {},
): Scheduler<Dpmpp2mState> {
  const alphas = alphasCumprod(config);
  const timesteps = Object.freeze(solverTimesteps(config, steps, options.timestepSpacing ?? 'linspace'));
  const grid: GridPoint[] = timesteps.map((t) => {
    const alpha = Math.sqrt(alphas[t]);
    const sigma = Math.sqrt(1 - alphas[t]);
    return { alpha, sigma, lambda: Math.log(alpha) - Math.log(sigma) };
  });
  // final_sigmas_type="zero": the solver ends at clean data, α = 1, σ = 0.
  grid.push({ alpha: 1, sigma: 0, lambda: Infinity });

  return {
    name: 'dpmpp-2m',
    timesteps,
    initNoiseSigma: 1,
    initialState: () => Object.freeze({ prevX0: null, prevLambda: Number.NaN }),
    needsNoise: () => false,
    levelAt(k) {
      checkLevel(k, timesteps.length);
      return { signal: grid[k].alpha, noise: grid[k].sigma };
    },
    step(state: Dpmpp2mState, input: StepInput): { sample: Float32Array; state: Dpmpp2mState } {
      const k = input.stepIndex;
      if (!Number.isInteger(k) || k < 0 || k >= timesteps.length) {
        throw new RangeError(`stepIndex must be an integer from 0 to ${timesteps.length - 1}, got ${k}`);
      }
      checkStepInput(input, false);
      const { sample: x, modelOutput: eps } = input;
      const s0 = grid[k];
      const t = grid[k + 1];
      const isLast = k === timesteps.length - 1;
      const m1 = isLast ? null : state.prevX0;
      if (m1 !== null && m1.length !== x.length) {
        throw new RangeError(`state holds ${m1.length} values but sample has ${x.length}; they must match`);
      }
      const h = t.lambda - s0.lambda;
      const ratio = t.sigma / s0.sigma; // σ_t / σ_s0 (0 on the last step)
      const phi = -t.alpha * Math.expm1(-h); // −α_t (e^{−h} − 1); expm1 keeps small h accurate
      // Alg. 2: D = (1 + 1/(2 r0))·m0 − 1/(2 r0)·m1 = m0 + ½·(m0 − m1)/r0 (diffusers' D0 + ½·D1).
      const halfInvR0 = m1 === null ? 0 : 0.5 / ((s0.lambda - state.prevLambda) / h);
      const x0 = new Float32Array(x.length);
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const m0 = (x[i] - s0.sigma * eps[i]) / s0.alpha; // x̂_0 = (x_s − σ_s ε)/α_s (ε → data prediction)
        x0[i] = m0;
        const d = m1 === null ? m0 : m0 + halfInvR0 * (m0 - m1[i]);
        // first order (DPM-Solver++1 = DDIM) when D = m0, midpoint second order otherwise
        out[i] = ratio * x[i] + phi * d;
      }
      return { sample: out, state: Object.freeze({ prevX0: x0, prevLambda: s0.lambda }) };
    },
  };
}
