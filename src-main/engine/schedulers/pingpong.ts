/**
 * Ping-pong sampling of a rectified-flow denoiser on a LogSNR schedule: stable-audio-tools' `sample_rf` with
 * `sampler="pingpong"`, the default of the post-trained Stable Audio Open Small and Stable Audio 3 models
 * (research/stableaudio.md §1 "sample_rf" and "Ping-pong step", §3 "Sampling" and "The 8-step schedule", §4.2).
 *
 * | symbol | here          | meaning                                                                          |
 * |--------|---------------|----------------------------------------------------------------------------------|
 * | t_i    | `levels[i]`   | noise level of step i ∈ [0, N]; x_t = (1 − t)·x_0 + t·ε (rectified flow)         |
 * | λ_i    | `logSnr[i]`   | log-SNR of step i: linspace(λ_start, λ_end, N + 1) (LogSNRShift with rate 0)     |
 * | σ_max  | `sigmaMax`    | t_0 and the scale of the initial noise (1 for text-to-audio)                     |
 * | v      | `modelOutput` | the model's velocity at (x, t_i), v ≈ ε − x_0 (fused over windows and prompts)   |
 * | x̂_0    | `denoised`    | the clean estimate x − t_i·v                                                     |
 * | z      | `noise`       | fresh N(0, I) drawn for every step but the last                                  |
 *
 * Schedule (§1): t_i = sigmoid(−λ_i), then t_0 = σ_max and t_N = 0 are pinned. SA3's LogSNR(−6.2 → 2) with N = 8
 * gives [1, 0.9944, 0.9845, 0.9579, 0.8909, 0.7455, 0.5125, 0.2739, 0] (§3).
 * Step i (§1, §4.2): x̂_0 = x − t_i·v; x ← (1 − t_{i+1})·x̂_0 + t_{i+1}·z. The last step lands on t_N = 0, so it returns
 * x̂_0 itself and draws no noise. Each step forgets x except through x̂_0, so the sampler keeps no history and taking
 * ONE global step on a fused velocity is exact (research/longform.md §1c: denoise, fuse, re-noise once).
 */
import { LIMITS } from '../../contract/generation-settings.ts';
import type { LogSnrScheduleConfig } from '../../contract/manifest.ts';
import { checkStepInput } from './noise-schedule.ts';
import { checkLevel, type Scheduler, type StepInput } from './types.ts';

export type { LogSnrScheduleConfig } from '../../contract/manifest.ts';

/** The LogSNR schedule of the Stable Audio 3 post-trained models: LogSNRShift(rate 0, anchor −6.2, end 2) (§3). */
export const SA3_LOGSNR_SCHEDULE: LogSnrScheduleConfig = { schedule: 'logsnr-linear', logSnrStart: -6.2, logSnrEnd: 2, sigmaMax: 1 };

/** Ping-pong keeps no state between steps; the explicit (empty) state keeps the API uniform across samplers. */
export type PingPongState = Readonly<Record<string, never>>;

/** A ping-pong sampler plus its full noise-level grid. */
export interface PingPongScheduler extends Scheduler<PingPongState> {
  /** t_0 … t_N (N + 1 levels, the last 0); `timesteps` is the first N of them. */
  readonly levels: readonly number[];
}

const EMPTY_STATE: PingPongState = Object.freeze({});

/** `np.linspace(start, stop, num)`: i·step + start with the endpoint pinned to `stop`. */
function linspace(start: number, stop: number, num: number): number[] {
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  out[num - 1] = stop;
  return out;
}

/** The N + 1 noise levels t_0 = σ_max > t_1 > … > t_N = 0 of a LogSNR schedule (file comment, §1). */
export function logSnrLevels(config: LogSnrScheduleConfig, steps: number): number[] {
  // The schedule is continuous; the table's cap only keeps requests sane.
  if (!Number.isInteger(steps) || steps < 1 || steps > LIMITS.steps.max) {
    throw new RangeError(`steps must be an integer from 1 to ${LIMITS.steps.max}, got ${steps}`);
  }
  const { logSnrStart, logSnrEnd, sigmaMax } = config;
  if (!(Number.isFinite(logSnrStart) && Number.isFinite(logSnrEnd) && logSnrStart < logSnrEnd)) {
    throw new RangeError(`logSnrStart (${logSnrStart}) must be below logSnrEnd (${logSnrEnd}); noise falls as λ rises`);
  }
  if (!(sigmaMax > 0 && sigmaMax <= 1)) throw new RangeError(`sigmaMax must lie in (0, 1], got ${sigmaMax}`);
  const levels = linspace(logSnrStart, logSnrEnd, steps + 1).map((lambda) => 1 / (1 + Math.exp(lambda)));
  levels[0] = sigmaMax;
  levels[steps] = 0;
  for (let i = 1; i < steps; i++) {
    // A σ_max below sigmoid(−λ_1) would make the grid climb; the reference pins t_0 regardless, so refuse instead.
    if (levels[i] >= levels[i - 1]) throw new RangeError(`sigmaMax ${sigmaMax} is below the schedule's level ${levels[i]} at step ${i}; raise sigmaMax`);
  }
  return levels;
}

/** Creates a ping-pong sampler over `steps` steps of a LogSNR schedule. */
export function createPingPongScheduler(config: LogSnrScheduleConfig, steps: number): PingPongScheduler {
  const levels = Object.freeze(logSnrLevels(config, steps));
  const timesteps = Object.freeze(levels.slice(0, steps));
  const check = (k: number): void => {
    if (!Number.isInteger(k) || k < 0 || k >= steps) throw new RangeError(`stepIndex must be an integer from 0 to ${steps - 1}, got ${k}`);
  };
  return {
    name: 'pingpong',
    timesteps,
    levels,
    initNoiseSigma: config.sigmaMax,
    initialState: () => EMPTY_STATE,
    needsNoise: (k) => {
      check(k);
      return levels[k + 1] > 0;
    },
    levelAt(k) {
      checkLevel(k, steps);
      return { signal: 1 - levels[k], noise: levels[k] };
    },
    step(state: PingPongState, input: StepInput): { sample: Float32Array; state: PingPongState } {
      const k = input.stepIndex;
      check(k);
      const t = levels[k];
      const next = levels[k + 1];
      const noise = checkStepInput(input, next > 0);
      const { sample: x, modelOutput: v } = input;
      const out = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const denoised = x[i] - t * v[i]; // x̂_0 = x − t_i·v
        out[i] = noise === undefined ? denoised : (1 - next) * denoised + next * noise[i]; // re-noise to t_{i+1}
      }
      return { sample: out, state };
    },
  };
}
