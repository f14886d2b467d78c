import { describe, it, expect } from 'vitest';
import { createDpmpp2mScheduler } from '../../../src-main/engine/schedulers/dpmpp-2m.ts';
import type { Dpmpp2mState } from '../../../src-main/engine/schedulers/dpmpp-2m.ts';
import { alphasCumprod } from '../../../src-main/engine/schedulers/noise-schedule.ts';
import type { Scheduler } from '../../../src-main/engine/schedulers/types.ts';
import { AUDIOLDM_SCHEDULER } from '../../../src-main/engine/schedulers/presets.ts';

const AUDIOLDM = AUDIOLDM_SCHEDULER;

// Gaussian data x0 ~ N(μ, s²) per element. Exact ε-predictor: ε̂(x, t) = √(1−ᾱ)(x − √ᾱμ)/(ᾱs² + 1 − ᾱ).
// Probability-flow ODE solution: x(ᾱ) = √ᾱμ + √(ᾱs² + 1 − ᾱ)·z with z constant; at σ = 0 (ᾱ = 1) it is μ + s·z.
const MU = [0.5, -1, 2, 0];
const S = [0.3, 1, 0.5, 2];
const Z = [1, -0.5, 0.3, -2];
const alphas = alphasCumprod(AUDIOLDM);
const ode = (a: number): number[] => MU.map((m, i) => Math.sqrt(a) * m + Math.sqrt(a * S[i] ** 2 + 1 - a) * Z[i]);
const epsHat = (x: Float32Array, a: number): Float32Array =>
  x.map((v, i) => (Math.sqrt(1 - a) * (v - Math.sqrt(a) * MU[i])) / (a * S[i] ** 2 + 1 - a));
const maxAbsDiff = (x: Float32Array, y: readonly number[]): number => Math.max(...y.map((v, i) => Math.abs(x[i] - v)));

/** Runs the sampler from x(ᾱ_{t_0}) with the exact denoiser; returns the end point and the worst mid-path error. */
function solve(sch: Scheduler<Dpmpp2mState>): { x: Float32Array; midError: number; afterStep: Float32Array[] } {
  let x: Float32Array = Float32Array.from(ode(alphas[sch.timesteps[0]]));
  let state = sch.initialState();
  let midError = 0;
  const afterStep: Float32Array[] = [];
  sch.timesteps.forEach((t, k) => {
    ({ sample: x, state } = sch.step(state, { stepIndex: k, sample: x, modelOutput: epsHat(x, alphas[t]) }));
    afterStep.push(x);
    const next = sch.timesteps[k + 1];
    if (next !== undefined) midError = Math.max(midError, maxAbsDiff(x, ode(alphas[next])));
  });
  return { x, midError, afterStep };
}

describe('DPM-Solver++(2M) schedule', () => {
  it('uses linspace spacing by default: round(linspace(0, 999, N+1))[::-1][:-1]', () => {
    const sch = createDpmpp2mScheduler(AUDIOLDM, 10);
    expect(sch.name).toBe('dpmpp-2m');
    expect(sch.timesteps).toEqual([999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
    expect(sch.initNoiseSigma).toBe(1);
    expect(sch.needsNoise(0)).toBe(false);
    expect(createDpmpp2mScheduler(AUDIOLDM, 10, { timestepSpacing: 'leading' }).timesteps[0]).toBe(901);
  });
});

describe('DPM-Solver++(2M) on Gaussian data (known ODE solution)', () => {
  it('matches a float64 numpy transcription of diffusers DPMSolverMultistepScheduler', () => {
    // N=3: t 999 → 666 (1st order), 666 → 333 (2nd order), 333 → σ=0 (1st order, returns x̂0).
    const three = solve(createDpmpp2mScheduler(AUDIOLDM, 3)).afterStep;
    [1.11133508256, -1.0374164587, 1.42446667344, -2.30077914705].forEach((v, i) =>
      expect(three[1][i]).toBeCloseTo(v, 5),
    );
    [0.563005052182, -1.26434290962, 2.04946970461, -2.65631722401].forEach((v, i) =>
      expect(three[2][i]).toBeCloseTo(v, 5),
    );
    const ten = solve(createDpmpp2mScheduler(AUDIOLDM, 10)).x;
    [0.661259124104, -1.45086132811, 2.10851979285, -3.88805648462].forEach((v, i) => expect(ten[i]).toBeCloseTo(v, 5));
  });

  it('tracks the ODE path closely and lands near μ + s·z at 25 steps', () => {
    const { x, midError } = solve(createDpmpp2mScheduler(AUDIOLDM, 25));
    expect(midError).toBeLessThan(1e-2);
    // The last step jumps from t = 40 (σ² ≈ 0.07) to σ = 0 with a constant x̂0, so a narrow component (s = 0.3) keeps
    // about a quarter of its deviation s·z shrunk; wide ones land within a few percent.
    const target = MU.map((m, i) => m + S[i] * Z[i]);
    target.forEach((v, i) => expect(Math.abs(x[i] - v)).toBeLessThan(0.3 * S[i] * Math.abs(Z[i]) + 1e-3));
    expect(maxAbsDiff(x, target)).toBeLessThan(0.08);
  });

  it('gets closer to the exact solution as the step count grows', () => {
    const target = MU.map((m, i) => m + S[i] * Z[i]);
    const runs = [25, 50, 100, 200].map((n) => solve(createDpmpp2mScheduler(AUDIOLDM, n)));
    for (let k = 1; k < runs.length; k++) {
      expect(maxAbsDiff(runs[k].x, target)).toBeLessThan(maxAbsDiff(runs[k - 1].x, target));
      expect(runs[k].midError).toBeLessThan(runs[k - 1].midError);
    }
  });

  it('returns the x̂0 prediction on the last step (final σ = 0)', () => {
    const sch = createDpmpp2mScheduler(AUDIOLDM, 5);
    const sample = Float32Array.of(0.5, -1.5, 2);
    const modelOutput = Float32Array.of(0.25, -0.75, 1);
    const a = alphas[sch.timesteps[4]];
    const { sample: out } = sch.step(sch.initialState(), { stepIndex: 4, sample, modelOutput });
    sample.forEach((v, i) => expect(out[i]).toBeCloseTo((v - Math.sqrt(1 - a) * modelOutput[i]) / Math.sqrt(a), 6));
  });
});

describe('DPM-Solver++(2M) state and inputs', () => {
  it('never mutates inputs or the given state, and returns a new state', () => {
    const sch = createDpmpp2mScheduler(AUDIOLDM, 10);
    const sample = Float32Array.of(0.5, -1.5, 2);
    const modelOutput = Float32Array.of(0.25, -0.75, 1);
    const s0 = sch.initialState();
    const first = sch.step(s0, { stepIndex: 0, sample, modelOutput });
    expect(s0.prevX0).toBeNull();
    expect(first.state).not.toBe(s0);
    const prevX0 = first.state.prevX0?.slice();
    const second = sch.step(first.state, { stepIndex: 1, sample: first.sample, modelOutput });
    expect(first.state.prevX0).toEqual(prevX0);
    expect(sample).toEqual(Float32Array.of(0.5, -1.5, 2));
    expect(modelOutput).toEqual(Float32Array.of(0.25, -0.75, 1));
    expect(second.sample).not.toBe(first.sample);
    expect(Object.isFrozen(second.state)).toBe(true);
  });

  it('names bad steps, stepIndex and mismatched lengths', () => {
    expect(() => createDpmpp2mScheduler(AUDIOLDM, 0)).toThrow(/from 1 to 1000.*got 0/);
    expect(() => createDpmpp2mScheduler(AUDIOLDM, 1001)).toThrow(/got 1001/);
    expect(() => createDpmpp2mScheduler(AUDIOLDM, 2.5)).toThrow(/got 2\.5/);
    const sch = createDpmpp2mScheduler(AUDIOLDM, 10);
    const a = new Float32Array(4);
    expect(() => sch.step(sch.initialState(), { stepIndex: -1, sample: a, modelOutput: a })).toThrow(
      /stepIndex must be an integer from 0 to 9, got -1/,
    );
    expect(() => sch.step(sch.initialState(), { stepIndex: 0, sample: a, modelOutput: new Float32Array(2) })).toThrow(
      /modelOutput has 2 values but sample has 4/,
    );
    const state = sch.step(sch.initialState(), { stepIndex: 0, sample: a, modelOutput: a }).state;
    const b = new Float32Array(3);
    expect(() => sch.step(state, { stepIndex: 1, sample: b, modelOutput: b })).toThrow(/state holds 4 values/);
  });
});
