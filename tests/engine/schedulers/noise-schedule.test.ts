import { describe, it, expect } from 'vitest';
import {
  alphasCumprod,
  betas,
  checkStepInput,
  solverTimesteps,
  spacedTimesteps,
} from '../../../src-main/engine/schedulers/noise-schedule.ts';
import { AUDIOLDM_SCHEDULER } from '../../../src-main/engine/schedulers/presets.ts';

const AUDIOLDM = AUDIOLDM_SCHEDULER;

describe('alphasCumprod', () => {
  const a = alphasCumprod(AUDIOLDM);

  it('matches the audioldm.md §4 check values to the printed precision', () => {
    expect(a).toBeInstanceOf(Float64Array);
    expect(a.length).toBe(1000);
    expect(a[0]).toBeCloseTo(0.9985, 12); // 1 − β_0 exactly
    expect(a[1]).toBeCloseTo(0.996994427, 9);
    expect(a[100]).toBeCloseTo(0.823117, 6);
    expect(a[500]).toBeCloseTo(0.114922, 6);
    expect(a[900]).toBeCloseTo(8.7253e-4, 8);
    expect(a[999]).toBeCloseTo(1.42304e-4, 9);
  });

  it('builds β from the √β line for scaled_linear and the β line for linear', () => {
    const scaled = betas(AUDIOLDM);
    expect(scaled[0]).toBeCloseTo(0.0015, 15);
    expect(scaled[999]).toBeCloseTo(0.0195, 15);
    const mid = (Math.sqrt(0.0015) + (499 * (Math.sqrt(0.0195) - Math.sqrt(0.0015))) / 999) ** 2;
    expect(scaled[499]).toBeCloseTo(mid, 15);
    const linear = betas({ ...AUDIOLDM, betaSchedule: 'linear' });
    expect(linear[499]).toBeCloseTo(0.0015 + (499 * 0.018) / 999, 15);
    expect(alphasCumprod({ ...AUDIOLDM, betaSchedule: 'linear' })[1]).toBeCloseTo(0.9985 * (1 - linear[1]), 15);
  });
});

describe('spacedTimesteps (DDIM)', () => {
  it('leading: 10 steps are 901, 801, …, 1', () => {
    expect(spacedTimesteps(AUDIOLDM, 10)).toEqual([901, 801, 701, 601, 501, 401, 301, 201, 101, 1]);
  });

  it('leading: 200 steps are 996, 991, …, 6, 1', () => {
    const ts = spacedTimesteps(AUDIOLDM, 200);
    expect(ts).toHaveLength(200);
    expect(ts.slice(0, 3)).toEqual([996, 991, 986]);
    expect(ts.slice(-2)).toEqual([6, 1]);
    expect(ts.every((t, k) => t === 996 - 5 * k)).toBe(true);
  });

  it('linspace and trailing match numpy (values from diffusers formulas run in numpy)', () => {
    const lin = { ...AUDIOLDM, timestepSpacing: 'linspace' as const };
    const trail = { ...AUDIOLDM, timestepSpacing: 'trailing' as const };
    expect(spacedTimesteps(lin, 4)).toEqual([999, 666, 333, 0]);
    // 166.5 → 166 and 832.5 → 832: numpy rounds half to even
    expect(spacedTimesteps(lin, 7)).toEqual([999, 832, 666, 500, 333, 166, 0]);
    expect(spacedTimesteps(trail, 10)).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    // numpy's arange fills 1000 + k·δ: entry 3 is 937.4999… (not the tie 937.5) → 937 → 936
    expect(spacedTimesteps(trail, 48).slice(0, 4)).toEqual([999, 978, 957, 936]);
    // numpy's arange gives 62 entries here; the intended grid has 61
    expect(spacedTimesteps(trail, 61)).toHaveLength(61);
    expect(spacedTimesteps(trail, 61).at(-1)).toBeGreaterThanOrEqual(0);
  });

  it('rejects steps outside 1..T, naming the value and the range', () => {
    expect(() => spacedTimesteps(AUDIOLDM, 0)).toThrow(/steps must be an integer from 1 to 1000.*got 0/);
    expect(() => spacedTimesteps(AUDIOLDM, 1001)).toThrow(/from 1 to 1000.*got 1001/);
    expect(() => spacedTimesteps(AUDIOLDM, 2.5)).toThrow(/got 2\.5/);
    expect(() => spacedTimesteps(AUDIOLDM, Number.NaN)).toThrow(RangeError);
  });

  it('rejects a leading grid that would run past T − 1 (1000 steps + offset 1 → t = 1000)', () => {
    expect(() => spacedTimesteps(AUDIOLDM, 1000)).toThrow(/timestep 1000, outside 0\.\.999/);
    expect(spacedTimesteps(AUDIOLDM, 999)[0]).toBe(999);
  });
});

describe('solverTimesteps (DPM-Solver++)', () => {
  it('linspace drops the t = 0 point of an N+1 grid, rounding half to even', () => {
    expect(solverTimesteps(AUDIOLDM, 10, 'linspace')).toEqual([999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
    expect(solverTimesteps(AUDIOLDM, 4, 'linspace')).toEqual([999, 749, 500, 250]);
    expect(solverTimesteps(AUDIOLDM, 6, 'linspace')).toEqual([999, 832, 666, 500, 333, 166]);
    expect(solverTimesteps(AUDIOLDM, 7, 'linspace')).toEqual([999, 856, 714, 571, 428, 285, 143]);
  });

  it('leading uses ⌊T/(N+1)⌋ plus the offset; trailing equals DDIM trailing', () => {
    expect(solverTimesteps(AUDIOLDM, 10, 'leading')).toEqual([901, 811, 721, 631, 541, 451, 361, 271, 181, 91]);
    expect(solverTimesteps(AUDIOLDM, 4, 'trailing')).toEqual([999, 749, 499, 249]);
  });

  it('rejects grids with repeated timesteps instead of dividing by h = 0 later', () => {
    expect(() => solverTimesteps(AUDIOLDM, 1000, 'linspace')).toThrow(/repeats timestep/);
    expect(() => solverTimesteps(AUDIOLDM, 0, 'linspace')).toThrow(/from 1 to 1000.*got 0/);
  });
});

describe('config and step-input validation', () => {
  it('names a bad β or T', () => {
    expect(() => betas({ ...AUDIOLDM, betaEnd: 1.5 })).toThrow(/betaEnd must lie in \(0, 1\), got 1\.5/);
    expect(() => betas({ ...AUDIOLDM, trainTimesteps: 1 })).toThrow(/trainTimesteps.*got 1/);
  });

  it('names mismatched lengths and missing noise', () => {
    const a = new Float32Array(4);
    expect(() => checkStepInput({ stepIndex: 0, sample: a, modelOutput: new Float32Array(3) }, false)).toThrow(
      /modelOutput has 3 values but sample has 4/,
    );
    expect(() => checkStepInput({ stepIndex: 2, sample: a, modelOutput: a }, true)).toThrow(/step 2 needs noise/);
    expect(() =>
      checkStepInput({ stepIndex: 0, sample: a, modelOutput: a, noise: new Float32Array(5) }, true),
    ).toThrow(/noise has 5 values/);
    expect(checkStepInput({ stepIndex: 0, sample: a, modelOutput: a, noise: a }, false)).toBeUndefined();
  });
});
