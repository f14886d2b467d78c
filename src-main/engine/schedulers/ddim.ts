/**
 * DDIM (Song et al. 2021, arXiv:2010.02502) with ε-prediction, as diffusers `DDIMScheduler.step` with
 * `clip_sample=false`, `thresholding=false` (research/audioldm.md §4).
 *
 * | symbol | here            | meaning                                                         |
 * |--------|-----------------|-----------------------------------------------------------------|
 * | x_t    | `sample`        | current latent                                                  |
 * | ε      | `modelOutput`   | guided noise prediction at (x_t, t)                             |
 * | ᾱ_t    | `alphaProd`     | ᾱ at the current timestep t                                     |
 * | ᾱ_prev | `alphaProdPrev` | ᾱ at the next (smaller) timestep, or ᾱ_final after the last one |
 * | x̂_0    | `x0`            | predicted clean latent (eq. 9 inverted)                         |
 * | σ_t    | `sigma`         | η-scaled DDPM posterior std (eq. 16)                            |
 * | z      | `noise`         | fresh N(0, I), used iff η > 0                                   |
 */
import { alphasCumprod, checkStepInput, spacedTimesteps } from './noise-schedule.ts';
import { checkLevel, type NoiseScheduleConfig, type Scheduler, type StepInput } from './types.ts';
import { LIMITS, withinLimit } from '../../contract/generation-settings.ts';

/** DDIM keeps no state between steps; the explicit (empty) state keeps the API uniform across samplers. */
export type DdimState = Readonly<Record<string, never>>;

/** Options for {@link createDdimScheduler}. */
export interface DdimOptions {
  /** η ∈ [0, 1]: 0 is deterministic DDIM (diffusers default), 1 is DDPM-like (official AudioLDM default). */
  eta?: number;
}

/** The per-step constants of one DDIM step (exposed for tests and diagnostics). */
export interface DdimStepAlphas {
  /** Model-facing timestep t. */
  timestep: number;
  /** Target timestep; negative means "past the end", where ᾱ_final is used. */
  prevTimestep: number;
  /** ᾱ_t. */
  alphaProd: number;
  /** ᾱ_prev. */
  alphaProdPrev: number;
}

/** A DDIM scheduler plus its per-step constants. */
export interface DdimScheduler extends Scheduler<DdimState> {
  /** ᾱ_t and ᾱ_prev for step `stepIndex`. */
  stepAlphas(stepIndex: number): DdimStepAlphas;
}

const EMPTY_STATE: DdimState = Object.freeze({});

/** Creates a DDIM sampler over `steps` timesteps spaced by `config.timestepSpacing`. */
export function createDdimScheduler(
  config: NoiseScheduleConfig,
  steps: number,
  options: DdimOptions = {},
): DdimScheduler {
  const eta = options.eta ?? 0;
  // η > 1 makes 1 − ᾱ_prev − σ² negative (eq. 12's direction term would be NaN).
  if (!withinLimit(LIMITS.eta, eta)) throw new RangeError(`eta must lie in [${LIMITS.eta.min}, ${LIMITS.eta.max}], got ${eta}`);
  const alphas = alphasCumprod(config);
  const timesteps = Object.freeze(spacedTimesteps(config, steps));
  // set_alpha_to_one=false (AudioLDM) ends on ᾱ_0 rather than 1.
  const finalAlphaProd = config.setAlphaToOne ? 1 : alphas[0];
  const ratio = Math.floor(config.trainTimesteps / steps);

  const stepAlphas = (stepIndex: number): DdimStepAlphas => {
    if (!Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= timesteps.length) {
      throw new RangeError(`stepIndex must be an integer from 0 to ${timesteps.length - 1}, got ${stepIndex}`);
    }
    const t = timesteps[stepIndex];
    // leading: t − ⌊T/N⌋ exactly as diffusers (it equals the next listed timestep); other spacings: the next listed
    // timestep, because diffusers' t − ⌊T/N⌋ would skip or revisit grid points there.
    const last = stepIndex === timesteps.length - 1;
    const prev = config.timestepSpacing === 'leading' ? t - ratio : last ? -1 : timesteps[stepIndex + 1];
    const alphaProdPrev = prev >= 0 ? alphas[prev] : finalAlphaProd;
    return { timestep: t, prevTimestep: prev, alphaProd: alphas[t], alphaProdPrev };
  };

  return {
    name: 'ddim',
    timesteps,
    initNoiseSigma: 1,
    stepAlphas,
    initialState: () => EMPTY_STATE,
    needsNoise: () => eta > 0,
    levelAt(k) {
      checkLevel(k, timesteps.length);
      // Before step k the sample is at ᾱ of timestep k; after the last step at that step's ᾱ_prev.
      const alphaProd = k < timesteps.length ? stepAlphas(k).alphaProd : stepAlphas(k - 1).alphaProdPrev;
      return { signal: Math.sqrt(alphaProd), noise: Math.sqrt(1 - alphaProd) };
    },
    step(state: DdimState, input: StepInput): { sample: Float32Array; state: DdimState } {
      const { alphaProd: at, alphaProdPrev: ap } = stepAlphas(input.stepIndex);
      const noise = checkStepInput(input, eta > 0);
      const { sample: x, modelOutput: eps } = input;
      const sqrtAt = Math.sqrt(at);
      const sqrtOneMinusAt = Math.sqrt(1 - at);
      const sqrtAp = Math.sqrt(ap);
      // eq. 16: σ_t(η) = η·√((1−ᾱ_prev)/(1−ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev)
      const sigma = eta * Math.sqrt((1 - ap) / (1 - at)) * Math.sqrt(1 - at / ap);
      // eq. 12 "direction pointing to x_t" coefficient; clamp guards rounding when σ² ≈ 1 − ᾱ_prev (η = 1).
      const dirCoef = Math.sqrt(Math.max(0, 1 - ap - sigma * sigma));
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const e = eps[i];
        const x0 = (x[i] - sqrtOneMinusAt * e) / sqrtAt; // eq. 12 "predicted x_0" (eq. 9 inverted)
        let v = sqrtAp * x0 + dirCoef * e; // eq. 12
        if (noise !== undefined) v += sigma * noise[i]; // eq. 12 random noise σ_t·z
        out[i] = v;
      }
      return { sample: out, state };
    },
  };
}
