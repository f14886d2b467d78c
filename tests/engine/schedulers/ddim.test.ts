import { describe, it, expect } from 'vitest';
import { createDdimScheduler } from '../../../src-main/engine/schedulers/ddim.ts';
import { alphasCumprod } from '../../../src-main/engine/schedulers/noise-schedule.ts';
import { AUDIOLDM_SCHEDULER } from '../../../src-main/engine/schedulers/presets.ts';

const AUDIOLDM = AUDIOLDM_SCHEDULER;

const X = Float32Array.of(0.5, -1.5, 2.0);
const EPS = Float32Array.of(0.25, -0.75, 1.0);
const Z = Float32Array.of(1.0, -0.5, 0.25);

function expectAllClose(actual: Float32Array, expected: readonly number[], digits: number): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, digits));
}

describe('DDIM schedule (10 steps, AudioLDM)', () => {
  const ddim = createDdimScheduler(AUDIOLDM, 10);

  it('walks 901 → 1 with initNoiseSigma 1', () => {
    expect(ddim.name).toBe('ddim');
    expect(ddim.timesteps).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
    expect(ddim.initNoiseSigma).toBe(1);
  });

  it('matches the (t, ᾱ_t, t_prev, ᾱ_prev) reference table of audioldm.md §4', () => {
    const table: [number, number, number, number][] = [
      [901, 0.000858, 801, 0.00412],
      [801, 0.00412, 701, 0.015483],
      [701, 0.015483, 601, 0.046502],
      [601, 0.046502, 501, 0.114005],
      [501, 0.114005, 401, 0.232975],
      [401, 0.232975, 301, 0.405216],
      [301, 0.405216, 201, 0.612443],
      [201, 0.612443, 101, 0.821146],
      [101, 0.821146, 1, 0.996994],
      [1, 0.996994, -99, 0.9985], // t_prev < 0 → ᾱ_final = ᾱ_0 (set_alpha_to_one=false)
    ];
    table.forEach(([t, at, prev, ap], k) => {
      const s = ddim.stepAlphas(k);
      expect(s.timestep).toBe(t);
      expect(s.alphaProd).toBeCloseTo(at, 6);
      expect(s.prevTimestep).toBe(prev);
      expect(s.alphaProdPrev).toBeCloseTo(ap, 6);
    });
  });

  it('ends on ᾱ = 1 when setAlphaToOne, and on the next listed timestep for linspace spacing', () => {
    expect(createDdimScheduler({ ...AUDIOLDM, setAlphaToOne: true }, 10).stepAlphas(9).alphaProdPrev).toBe(1);
    const lin = createDdimScheduler({ ...AUDIOLDM, timestepSpacing: 'linspace' }, 10);
    expect(lin.timesteps.slice(0, 2)).toEqual([999, 888]);
    expect(lin.stepAlphas(0).prevTimestep).toBe(888);
    expect(lin.stepAlphas(9).prevTimestep).toBe(-1);
  });
});

describe('DDIM step against hand-computed values', () => {
  // Expected values: audioldm.md §4 steps 1–5 evaluated in float64 (numpy) with ᾱ from the §4 β formula:
  //   x̂0 = (x − √(1−a_t)·ε)/√a_t;  σ = η·√((1−a_prev)/(1−a_t))·√(1 − a_t/a_prev);
  //   x_prev = √a_prev·x̂0 + √(1 − a_prev − σ²)·ε + σ·z.
  // Step 0: t 901 → 801, a_t = 0.000857844944, a_prev = 0.004120078003, x̂0 = [8.53929249, −25.6178775, 34.1571700],
  //         σ(η=0.5) = 0.444185753.
  // Step 9: t 1 → final, a_t = 0.996994427, a_prev = ᾱ_0 = 0.9985, x̂0 = [0.487026671, −1.46108001, 1.94810669],
  //         σ(η=0.5) = 0.0137160438.
  const cases: { name: string; stepIndex: number; eta: number; expected: number[] }[] = [
    { name: 'step 0, η=0', stepIndex: 0, eta: 0, expected: [0.797603145, -2.392809436, 3.190412582] },
    { name: 'step 0, η=0.5', stepIndex: 0, eta: 0.5, expected: [1.21571255, -2.536673267, 3.197153626] },
    { name: 'step 9, η=0', stepIndex: 9, eta: 0, expected: [0.496343723, -1.489031168, 1.985374891] },
    { name: 'step 9, η=0.5', stepIndex: 9, eta: 0.5, expected: [0.509432245, -1.494006626, 1.986293816] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ddim = createDdimScheduler(AUDIOLDM, 10, { eta: c.eta });
      expect(ddim.needsNoise(c.stepIndex)).toBe(c.eta > 0);
      const input = { stepIndex: c.stepIndex, sample: X, modelOutput: EPS, noise: c.eta > 0 ? Z : undefined };
      const { sample } = ddim.step(ddim.initialState(), input);
      expect(sample).toBeInstanceOf(Float32Array);
      expectAllClose(sample, c.expected, 6); // float32 storage: |error| ≲ 2.5e-7 at these magnitudes
    });
  }

  it('ignores noise when η = 0', () => {
    const ddim = createDdimScheduler(AUDIOLDM, 10);
    const withNoise = ddim.step({}, { stepIndex: 0, sample: X, modelOutput: EPS, noise: Z }).sample;
    expectAllClose(withNoise, [0.797603145, -2.392809436, 3.190412582], 6);
  });

  it('does not mutate its inputs and returns a fresh array', () => {
    const ddim = createDdimScheduler(AUDIOLDM, 10, { eta: 0.5 });
    const sample = X.slice();
    const modelOutput = EPS.slice();
    const noise = Z.slice();
    const state = ddim.initialState();
    const out = ddim.step(state, { stepIndex: 3, sample, modelOutput, noise });
    expect(sample).toEqual(X);
    expect(modelOutput).toEqual(EPS);
    expect(noise).toEqual(Z);
    expect(out.sample).not.toBe(sample);
    expect(out.state).toBe(state);
  });
});

describe('DDIM input validation', () => {
  it('names bad steps, η, stepIndex and missing noise', () => {
    expect(() => createDdimScheduler(AUDIOLDM, 0)).toThrow(/from 1 to 1000.*got 0/);
    expect(() => createDdimScheduler(AUDIOLDM, 1001)).toThrow(/from 1 to 1000.*got 1001/);
    expect(() => createDdimScheduler(AUDIOLDM, 2.5)).toThrow(/got 2\.5/);
    expect(() => createDdimScheduler(AUDIOLDM, 10, { eta: 1.5 })).toThrow(/eta must lie in \[0, 1\], got 1\.5/);
    expect(() => createDdimScheduler(AUDIOLDM, 10, { eta: -0.1 })).toThrow(RangeError);
    const ddim = createDdimScheduler(AUDIOLDM, 10, { eta: 1 });
    expect(() => ddim.step({}, { stepIndex: 10, sample: X, modelOutput: EPS, noise: Z })).toThrow(
      /stepIndex must be an integer from 0 to 9, got 10/,
    );
    expect(() => ddim.step({}, { stepIndex: 0, sample: X, modelOutput: EPS })).toThrow(/needs noise/);
  });
});

describe('DDIM η=0 follows the probability-flow ODE for Gaussian data', () => {
  // Data x0 ~ N(μ, s²) per element: ε̂(x, t) = √(1−ᾱ)(x − √ᾱμ)/(ᾱs² + 1 − ᾱ) is the exact ε-predictor and the ODE
  // solution is x(ᾱ) = √ᾱμ + √(ᾱs² + 1 − ᾱ)·z with z constant along the path.
  const MU = [0.5, -1, 2, 0];
  const S = [0.3, 1, 0.5, 2];
  const ZZ = [1, -0.5, 0.3, -2];
  const alphas = alphasCumprod(AUDIOLDM);
  const ode = (a: number): number[] => MU.map((m, i) => Math.sqrt(a) * m + Math.sqrt(a * S[i] ** 2 + 1 - a) * ZZ[i]);
  const epsHat = (x: Float32Array, a: number): Float32Array =>
    x.map((v, i) => (Math.sqrt(1 - a) * (v - Math.sqrt(a) * MU[i])) / (a * S[i] ** 2 + 1 - a));

  function maxError(steps: number): number {
    const ddim = createDdimScheduler(AUDIOLDM, steps);
    let x: Float32Array = Float32Array.from(ode(alphas[ddim.timesteps[0]]));
    let state = ddim.initialState();
    ddim.timesteps.forEach((t, k) => {
      ({ sample: x, state } = ddim.step(state, { stepIndex: k, sample: x, modelOutput: epsHat(x, alphas[t]) }));
    });
    const target = ode(alphas[0]); // ᾱ_final = ᾱ_0
    return Math.max(...target.map((v, i) => Math.abs(x[i] - v)));
  }

  it('converges to x(ᾱ_final) as the step count grows', () => {
    const errors = [10, 50, 200].map(maxError);
    expect(errors[0]).toBeGreaterThan(errors[1]);
    expect(errors[1]).toBeGreaterThan(errors[2]);
    // first order in the step size: halving h roughly halves the error (measured 0.027 at 200 steps, 0.0055 at 999)
    expect(errors[2]).toBeLessThan(0.035);
    expect(errors[0] / errors[2]).toBeGreaterThan(10);
  });
});
