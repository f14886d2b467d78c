/**
 * The scheduler contract. State is explicit and immutable so that long-form tiling can fuse the model outputs of
 * many windows into one prediction and take ONE global step (research/longform.md §1).
 */

/** Training-time noise schedule constants from a model pack manifest (research/audioldm.md §1 "Scheduler"). */
export interface NoiseScheduleConfig {
  /** Number of training timesteps (AudioLDM: 1000). */
  trainTimesteps: number;
  /** β at the first training step (AudioLDM: 0.0015). */
  betaStart: number;
  /** β at the last training step (AudioLDM: 0.0195). */
  betaEnd: number;
  /** `scaled_linear`: β_i = (√β0 + i·(√β1 − √β0)/(N−1))²; `linear`: β_i = β0 + i·(β1 − β0)/(N−1). */
  betaSchedule: 'scaled_linear' | 'linear';
  /** What the network predicts; only `epsilon` is implemented for the audioldm family. */
  predictionType: 'epsilon';
  /** Timestep spacing rule (diffusers `timestep_spacing`). */
  timestepSpacing: 'leading' | 'linspace' | 'trailing';
  /** Added to every timestep under `leading` spacing (AudioLDM: 1). */
  stepsOffset: number;
  /** Whether the final "previous" ᾱ is 1 (true) or ᾱ_0 (false; AudioLDM). */
  setAlphaToOne: boolean;
}

/** One sampler step's inputs. Arrays are flat and of equal length (the whole latent, or the fused canvas). */
export interface StepInput {
  /** Index into `timesteps` of the step being taken. */
  stepIndex: number;
  /** Current sample x_t. */
  sample: Float32Array;
  /** Model output at (x_t, t) after guidance and window fusion (ε for epsilon prediction). */
  modelOutput: Float32Array;
  /** Fresh standard-normal noise of the same length, required iff `needsNoise(stepIndex)`. */
  noise?: Float32Array;
}

/** A configured sampler for a fixed number of inference steps. */
export interface Scheduler<State = unknown> {
  /** Stable identifier (`ddim`, `dpmpp-2m`). */
  readonly name: string;
  /** Model-facing timesteps, descending; one model evaluation per entry. */
  readonly timesteps: readonly number[];
  /** Multiplier for the initial N(0, I) latent (1 for ε-prediction DDPM-family schedules). */
  readonly initNoiseSigma: number;
  /** State before the first step. */
  initialState(): State;
  /** Whether step `stepIndex` consumes fresh noise (DDIM with η > 0). */
  needsNoise(stepIndex: number): boolean;
  /** Takes one step; never mutates its inputs; returns x_{t_prev} and the next state. */
  step(state: State, input: StepInput): { sample: Float32Array; state: State };
  /**
   * The forward process at level `k` ∈ [0, steps]: a sample before step k (k = steps: after the last step) is
   * distributed as signal·x₀ + noise·ε with ε ~ N(0, I). DDPM samplers: √ᾱ and √(1 − ᾱ) of the level's timestep;
   * rectified flow: 1 − t and t. What in-context regeneration (RePaint) and variations (SDEdit) noise a kept
   * latent to.
   */
  levelAt(k: number): NoiseLevel;
}

/** The forward process's coefficients at one level: x = signal·x₀ + noise·ε. */
export interface NoiseLevel {
  signal: number;
  noise: number;
}

/** Throws unless `k` is a level of a sampler with `steps` steps (0 … steps). */
export function checkLevel(k: number, steps: number): void {
  if (!Number.isInteger(k) || k < 0 || k > steps) throw new RangeError(`level must be an integer from 0 to ${steps}, got ${k}`);
}
