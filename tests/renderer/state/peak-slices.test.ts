/** A generation's preview chunks laid out on a region's span. */
import { describe, expect, it } from 'vitest';
import { assemblePreview, pairsPerSecond, type PreviewChunk } from '../../../src-renderer/state/peak-slices.ts';

describe('assemblePreview', () => {
  const chunk = (start: number, n: number, value: number): PreviewChunk => ({
    start,
    sampleRate: 1000,
    samplesPerPeak: 100,
    peaks: Array.from({ length: n * 2 }, (_, j) => (j % 2 === 0 ? -value : value)),
  });

  it('places chunks at their timeline position and reports how far they reach', () => {
    const out = assemblePreview([chunk(10, 10, 0.5), chunk(11, 10, 0.25)], 10, 14);
    expect(out).not.toBeNull();
    if (out === null) return;
    expect(out.pairs.length).toBe(80);
    expect(out.pairs[1]).toBe(0.5);
    expect(out.pairs[21]).toBe(0.25);
    expect(out.pairs[41]).toBe(0);
    expect(out.filled).toBeCloseTo(2);
  });

  it('clips chunks that begin before the region and ignores those outside', () => {
    const out = assemblePreview([chunk(9, 20, 0.5), chunk(20, 5, 1)], 10, 12);
    expect(out?.pairs.length).toBe(40);
    expect(out?.pairs[1]).toBe(0.5);
    expect(out?.pairs[19]).toBe(0.5);
    expect(out?.pairs[21]).toBe(0);
    expect(out?.filled).toBeCloseTo(1);
    expect(assemblePreview([chunk(20, 5, 1)], 10, 12)).toBeNull();
    expect(pairsPerSecond(chunk(0, 1, 1))).toBe(10);
  });
});
