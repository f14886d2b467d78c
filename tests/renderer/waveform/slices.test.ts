import { describe, expect, it } from 'vitest';
import { peakRange, planSlice, sliceCovers } from '../../../src-renderer/waveform/peaks.ts';

describe('peakRange', () => {
  it('copies whole pairs and pads past either end with silence', () => {
    const pairs = [-0.1, 0.1, -0.2, 0.2, -0.3, 0.3];
    expect(Array.from(peakRange(pairs, 1, 2))).toEqual([-0.2, 0.2, -0.3, 0.3].map(Math.fround));
    expect(Array.from(peakRange(pairs, -1, 2))).toEqual([0, 0, -0.1, 0.1].map(Math.fround));
    expect(Array.from(peakRange(pairs, 2, 3))).toEqual([-0.3, 0.3, 0, 0, 0, 0].map(Math.fround));
    expect(peakRange(pairs, 0, 0).length).toBe(0);
  });
});

describe('planSlice', () => {
  it('takes the visible part plus the margin, clipped to the region', () => {
    // 10 pairs/s, a 60 s region, the view shows 20…30 s of it, margin 5 s → 15…35 s.
    expect(planSlice(60, 20, 30, 5, 10)).toEqual({ from: 15, to: 35, first: 150, count: 200 });
    // Near the start: clipped at 0; near the end: clipped at the region's length.
    expect(planSlice(60, -10, 3, 5, 10)).toEqual({ from: 0, to: 8, first: 0, count: 80 });
    expect(planSlice(60, 50, 70, 5, 10)).toEqual({ from: 45, to: 60, first: 450, count: 150 });
  });

  it('is bounded by the view, not the zoom or the region length', () => {
    // A one-hour region at 500 pairs/s, with 1 s on screen: 2 s of pairs, not 3600 s.
    const slice = planSlice(3600, 1000, 1001, 0.5, 500);
    expect(slice?.count).toBe(1000);
  });

  it('widens to whole pairs of the source so every pair stays at its time', () => {
    // 4 pairs/s, the region reads the take from 0.1 s: region second 1 is take second 1.1, inside pair 4 (1.0…1.25).
    const slice = planSlice(10, 1, 2, 0, 4, 0.1);
    expect(slice).not.toBeNull();
    expect(slice?.first).toBe(4);
    expect(slice?.count).toBe(5); // pairs 4…8 cover take 1.0…2.25 s ⊇ 1.1…2.1 s
    expect(slice?.from).toBeCloseTo(0.9, 12);
    expect(slice?.to).toBeCloseTo(2.15, 12);
  });

  it('is null when nothing of the region is within reach', () => {
    expect(planSlice(10, 30, 40, 5, 10)).toBeNull();
    expect(planSlice(10, -20, -6, 5, 10)).toBeNull();
  });

  it('rejects a resolution that is not positive', () => {
    expect(() => planSlice(10, 0, 1, 0, 0)).toThrow(RangeError);
  });
});

describe('sliceCovers', () => {
  it('says whether the drawn slice holds the needed one', () => {
    const drawn = planSlice(60, 20, 30, 10, 10);
    expect(sliceCovers(drawn, planSlice(60, 20, 30, 2.5, 10))).toBe(true);
    expect(sliceCovers(drawn, planSlice(60, 35, 45, 2.5, 10))).toBe(false);
    expect(sliceCovers(null, planSlice(60, 20, 30, 2.5, 10))).toBe(false);
    expect(sliceCovers(null, null)).toBe(true);
  });
});
