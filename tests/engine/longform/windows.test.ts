/** Window planning: coverage, spacing, clamped SpotDiffusion ends, seeded offsets, weight profiles. */
import { describe, expect, it } from 'vitest';
import { methodPerStep, planMultiDiffusion, planSpotDiffusion, spotOffsets, windowProfile } from '../../../src-main/engine/longform/windows.ts';

function coverage(starts: number[], window: number, frames: number): Int32Array {
  const count = new Int32Array(frames);
  for (const a of starts) for (let n = 0; n < window; n++) count[a + n]++;
  return count;
}

describe('planMultiDiffusion', () => {
  it.each([
    [750, 256, 128],
    [1500, 256, 64],
    [4504, 256, 128],
    [257, 256, 128],
    [1000, 256, 256],
    [999, 100, 37],
  ])('T=%i W=%i S=%i: N = ⌈(T−W)/S⌉+1 windows, evenly spread, last end-aligned, every frame covered', (T, W, S) => {
    const starts = planMultiDiffusion(T, W, S);
    expect(starts).toHaveLength(Math.ceil((T - W) / S) + 1);
    expect(starts[0]).toBe(0);
    expect(starts[starts.length - 1]).toBe(T - W);
    for (let i = 1; i < starts.length; i++) {
      expect(starts[i] - starts[i - 1]).toBeGreaterThan(0);
      expect(starts[i] - starts[i - 1]).toBeLessThanOrEqual(S);
    }
    expect(Math.min(...coverage(starts, W, T))).toBeGreaterThan(0);
  });

  it('matches the cost table of research/longform.md §2.1 (AudioLDM, W = 256)', () => {
    const n = (seconds: number, s: number) => planMultiDiffusion(seconds * 25, 256, s).length;
    expect([n(30, 32), n(30, 64), n(30, 128)]).toEqual([17, 9, 5]);
    expect([n(60, 32), n(60, 64), n(60, 128)]).toEqual([40, 21, 11]);
    expect([n(300, 32), n(300, 64), n(300, 128)]).toEqual([228, 115, 58]);
  });

  it('one window when the piece fits; bad strides are refused', () => {
    expect(planMultiDiffusion(200, 256, 128)).toEqual([0]);
    expect(() => planMultiDiffusion(1000, 256, 0)).toThrow(/stride 0 must be between 1 and the window/);
  });
});

describe('planSpotDiffusion', () => {
  it.each([750, 1500, 4504, 257, 512, 7500])('T=%i: non-overlapping shifted tiles with clamped ends cover every frame for every offset', (T) => {
    const W = 256;
    for (const offset of [0, 1, 37, 128, 255]) {
      const starts = planSpotDiffusion(T, W, offset);
      const count = coverage(starts, W, T);
      expect(Math.min(...count)).toBeGreaterThan(0);
      expect(starts.every((a) => a >= 0 && a + W <= T)).toBe(true);
      expect(starts.length).toBeLessThanOrEqual(Math.ceil(T / W) + 1);
      // Only the clamped end tiles may overlap their neighbour.
      const overlapped = [...count].filter((c) => c > 1).length;
      expect(overlapped).toBeLessThan(2 * W);
      // Interior seams sit at −offset + jW.
      for (const a of starts.slice(1, -1)) expect((a + offset) % W).toBe(0);
    }
  });

  it('matches the cost table of research/longform.md §2.1 (Spot + clamped ends, worst offset)', () => {
    const worst = (T: number) => Math.max(...Array.from({ length: 256 }, (_, s) => planSpotDiffusion(T, 256, s).length));
    expect([worst(750), worst(1500), worst(7500)]).toEqual([4, 7, 31]);
  });

  it('a single plain window when T ≤ W', () => {
    expect(planSpotDiffusion(256, 256, 99)).toEqual([0]);
    expect(planSpotDiffusion(80, 256, 3)).toEqual([0]);
  });
});

describe('spotOffsets', () => {
  it('are seeded, in [0, W), and vary between steps', () => {
    const a = spotOffsets(7, 50, 256);
    expect(a).toEqual(spotOffsets(7, 50, 256));
    expect(a).not.toEqual(spotOffsets(8, 50, 256));
    expect(a.every((s) => Number.isInteger(s) && s >= 0 && s < 256)).toBe(true);
    expect(new Set(a).size).toBeGreaterThan(40);
  });
});

describe('windowProfile and methodPerStep', () => {
  it('tapered weights are positive, symmetric and peak in the middle; uniform are ones', () => {
    const w = windowProfile(256, 'tapered');
    expect(Math.min(...w)).toBeGreaterThan(0);
    for (let n = 0; n < 256; n++) expect(w[n]).toBeCloseTo(w[255 - n], 6);
    expect(w[127]).toBeGreaterThan(w[10]);
    expect([...windowProfile(8, 'uniform')]).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('auto runs SpotDiffusion, then MultiDiffusion for the final steps', () => {
    expect(methodPerStep('auto', 5, 2)).toEqual(['spotdiffusion', 'spotdiffusion', 'spotdiffusion', 'multidiffusion', 'multidiffusion']);
    expect(methodPerStep('auto', 2, 0)).toEqual(['spotdiffusion', 'spotdiffusion']);
    expect(methodPerStep('multidiffusion', 3, 2)).toEqual(['multidiffusion', 'multidiffusion', 'multidiffusion']);
  });
});
