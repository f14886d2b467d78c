/**
 * The ping-pong sampler on the LogSNR schedule (research/stableaudio.md §1, §3, §4.2): the schedule's numbers, the
 * step's arithmetic on known inputs, and its statistics on a Gaussian latent whose exact denoiser is known.
 */
import { describe, expect, it } from 'vitest';
import { createPingPongScheduler, logSnrLevels, SA3_LOGSNR_SCHEDULE } from '../../../src-main/engine/schedulers/pingpong.ts';
import { createScheduler } from '../../../src-main/engine/schedulers/index.ts';
import { AUDIOLDM_SCHEDULER } from '../../../src-main/engine/schedulers/presets.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';

describe('LogSNR schedule', () => {
  it('SA3, 8 steps: the values of research/stableaudio.md §3 (LogSNR −6.2 → 2, endpoints pinned)', () => {
    const levels = logSnrLevels(SA3_LOGSNR_SCHEDULE, 8);
    const notes = [1.0, 0.9944, 0.9845, 0.9579, 0.8909, 0.7455, 0.5125, 0.2739, 0.0];
    expect(levels).toHaveLength(9);
    notes.forEach((t, i) => expect(levels[i]).toBeCloseTo(t, 4));
    expect(levels[0]).toBe(1);
    expect(levels[8]).toBe(0);
  });

  it('SAO-small, 8 steps (LogSNR −6 → 2): the comparison values of §3', () => {
    const levels = logSnrLevels({ ...SA3_LOGSNR_SCHEDULE, logSnrStart: -6 }, 8);
    [1.0, 0.9933, 0.982, 0.9526, 0.8808, 0.7311, 0.5, 0.2689, 0].forEach((t, i) => expect(levels[i]).toBeCloseTo(t, 4));
  });

  it('t_i = sigmoid(−λ_i) with λ on linspace(start, end, N + 1), strictly falling, for any step count', () => {
    for (const steps of [1, 2, 3, 8, 50]) {
      const levels = logSnrLevels(SA3_LOGSNR_SCHEDULE, steps);
      expect(levels).toHaveLength(steps + 1);
      for (let i = 1; i < steps; i++) {
        const lambda = -6.2 + (8.2 * i) / steps;
        expect(levels[i]).toBeCloseTo(1 / (1 + Math.exp(lambda)), 12);
        expect(levels[i]).toBeLessThan(levels[i - 1]);
      }
    }
  });

  it('refuses bad steps and schedules with the value named', () => {
    expect(() => logSnrLevels(SA3_LOGSNR_SCHEDULE, 0)).toThrow(/steps must be an integer from 1 to 1000, got 0/);
    expect(() => logSnrLevels(SA3_LOGSNR_SCHEDULE, 2.5)).toThrow(/got 2\.5/);
    expect(() => logSnrLevels({ ...SA3_LOGSNR_SCHEDULE, logSnrStart: 3 }, 8)).toThrow(/logSnrStart \(3\) must be below logSnrEnd \(2\)/);
    expect(() => logSnrLevels({ ...SA3_LOGSNR_SCHEDULE, sigmaMax: 0.5 }, 8)).toThrow(/sigmaMax 0.5 is below the schedule's level/);
  });
});

describe('ping-pong step', () => {
  const sampler = createPingPongScheduler(SA3_LOGSNR_SCHEDULE, 8);
  const x = Float32Array.of(1, -2, 0.5);
  const v = Float32Array.of(0.5, 1, -0.25);
  const z = Float32Array.of(0.3, -0.1, 2);

  it('exposes the first N levels as the model-facing timesteps and starts from N(0, I)·σ_max', () => {
    expect(sampler.name).toBe('pingpong');
    expect(sampler.timesteps).toEqual(sampler.levels.slice(0, 8));
    expect(sampler.initNoiseSigma).toBe(1);
    expect(Array.from({ length: 8 }, (_, k) => sampler.needsNoise(k))).toEqual([true, true, true, true, true, true, true, false]);
  });

  it('x̂₀ = x − t_i·v, then x ← (1 − t_{i+1})·x̂₀ + t_{i+1}·z (step 3, by hand)', () => {
    const [t, next] = [sampler.levels[3], sampler.levels[4]];
    const out = sampler.step(sampler.initialState(), { stepIndex: 3, sample: x, modelOutput: v, noise: z }).sample;
    for (let i = 0; i < 3; i++) expect(out[i]).toBeCloseTo((1 - next) * (x[i] - t * v[i]) + next * z[i], 6);
    expect(Array.from(x)).toEqual([1, -2, 0.5]); // inputs untouched
  });

  it('the last step lands on t = 0: it returns x̂₀ and takes no noise', () => {
    const t = sampler.levels[7];
    const out = sampler.step(sampler.initialState(), { stepIndex: 7, sample: x, modelOutput: v }).sample;
    expect(Array.from(out)).toEqual(Array.from(x, (xi, i) => Math.fround(xi - t * v[i])));
  });

  it('is a pure function of its inputs (same inputs, same bits) and checks them', () => {
    const a = sampler.step(sampler.initialState(), { stepIndex: 0, sample: x, modelOutput: v, noise: z }).sample;
    const b = sampler.step(sampler.initialState(), { stepIndex: 0, sample: x, modelOutput: v, noise: z }).sample;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(() => sampler.step(sampler.initialState(), { stepIndex: 0, sample: x, modelOutput: v })).toThrow(/step 0 needs noise/);
    expect(() => sampler.step(sampler.initialState(), { stepIndex: 8, sample: x, modelOutput: v })).toThrow(/stepIndex must be an integer from 0 to 7, got 8/);
    expect(() => sampler.step(sampler.initialState(), { stepIndex: 1, sample: x, modelOutput: v.subarray(1), noise: z })).toThrow(/modelOutput has 2 values but sample has 3/);
  });

  it('the registry builds it for LogSNR schedules only, and DDPM samplers refuse LogSNR schedules', () => {
    expect(createScheduler('pingpong', SA3_LOGSNR_SCHEDULE, 8).name).toBe('pingpong');
    expect(() => createScheduler('pingpong', AUDIOLDM_SCHEDULER, 8)).toThrow(/sampler "pingpong" cannot walk a DDPM noise schedule; use one of ddim, dpmpp-2m/);
    expect(() => createScheduler('ddim', SA3_LOGSNR_SCHEDULE, 8)).toThrow(/sampler "ddim" cannot walk a rectified-flow LogSNR schedule; use one of pingpong/);
  });
});

describe('statistics on a Gaussian latent (the stand-in pack\'s denoiser, in float64 here)', () => {
  // Data x₀ ~ N(μ, s²) per element; x_t = (1 − t)x₀ + tε; the exact velocity has x − t·v = E[x₀ | x_t] =
  // μ + κ(x − (1 − t)μ), κ = (1 − t)s² / ((1 − t)²s² + t²). Ping-pong then gives the final deviation d_N−1 from
  // d_i = κ_i·((1 − t_i)·d_{i−1} + t_i·z_i), d_0 = 0 (κ = 0 at t = 1), so Var = V_{N−1} with
  // V_i = κ_i²·((1 − t_i)²·V_{i−1} + t_i²).
  const mu = 0.7;
  const s = 0.25;
  const kappa = (t: number): number => ((1 - t) * s * s) / ((1 - t) ** 2 * s * s + t * t);

  it.each([8, 3])('%i steps: mean μ and the variance of the recursion, within 5 standard errors', (steps) => {
    const sampler = createPingPongScheduler(SA3_LOGSNR_SCHEDULE, steps);
    const n = 200_000;
    let x = createRng(5, 0).normals(n);
    const noise = createRng(5, 1);
    let state = sampler.initialState();
    for (let k = 0; k < steps; k++) {
      const t = sampler.timesteps[k];
      const v = x.map((xi) => (xi - (mu + kappa(t) * (xi - (1 - t) * mu))) / t);
      const next = sampler.step(state, { stepIndex: k, sample: x, modelOutput: v, noise: sampler.needsNoise(k) ? noise.normals(n) : undefined });
      state = next.state;
      x = next.sample;
    }
    let variance = 0;
    for (let k = 0; k < steps; k++) {
      const t = sampler.levels[k];
      variance = kappa(t) ** 2 * ((1 - t) ** 2 * variance + t * t);
    }
    const mean = x.reduce((a, b) => a + b, 0) / n;
    const measured = x.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(mean - mu)).toBeLessThan(5 * Math.sqrt(variance / n) + 1e-6);
    expect(Math.abs(measured - variance)).toBeLessThan(5 * variance * Math.sqrt(2 / n) + 1e-9);
    console.info(`ping-pong ${steps} steps: mean ${mean.toFixed(5)} (μ ${mu}), variance ${measured.toExponential(4)} vs ${variance.toExponential(4)}`);
  });
});
