import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { regionEdges, snapThreshold, snapTime, type SnapOptions } from '../../../src-renderer/model/snap.ts';
import { sampleProject } from '../../contract/project-fixtures.ts';

const options = (over: Partial<SnapOptions> = {}): SnapOptions => ({ enabled: true, grid: 0.5, edges: [], thresholdSeconds: 0.1, ...over });

describe('snapTime', () => {
  it('leaves the time alone when snapping is off', () => {
    expect(snapTime(1.02, options({ enabled: false, edges: [1] }))).toEqual({ time: 1.02, snappedTo: null });
  });

  it('snaps to the nearest grid line within the threshold', () => {
    expect(snapTime(1.03, options({ grid: 0.25 }))).toEqual({ time: 1, snappedTo: 'grid' });
    expect(snapTime(1.47, options())).toEqual({ time: 1.5, snappedTo: 'grid' });
  });

  it('does not snap beyond the threshold', () => {
    expect(snapTime(1.2, options())).toEqual({ time: 1.2, snappedTo: null });
    expect(snapTime(1.2, options({ grid: null, edges: [1.35] }))).toEqual({ time: 1.2, snappedTo: null });
  });

  it('snaps at exactly the threshold distance', () => {
    expect(snapTime(1.25, options({ grid: null, edges: [1.5], thresholdSeconds: 0.25 }))).toEqual({ time: 1.5, snappedTo: 'edge' });
  });

  it('prefers the nearer of a grid line and an edge', () => {
    expect(snapTime(1.04, options({ edges: [1.06] }))).toEqual({ time: 1.06, snappedTo: 'edge' });
    expect(snapTime(1.04, options({ edges: [1.1] }))).toEqual({ time: 1, snappedTo: 'grid' });
  });

  it('lets an edge win a tie with a grid line', () => {
    // 1.5 is 0.5 from the grid line at 2 (Math.round) and 0.5 from the edge at 1: exact binary fractions.
    expect(snapTime(1.5, options({ grid: 1, edges: [1], thresholdSeconds: 0.6 }))).toEqual({ time: 1, snappedTo: 'edge' });
    expect(snapTime(1.5, options({ grid: 1, edges: [2], thresholdSeconds: 0.6 }))).toEqual({ time: 2, snappedTo: 'edge' });
  });

  it('picks the nearest of several edges, in any order', () => {
    expect(snapTime(5, options({ grid: null, edges: [5.3, 4.95, 5.08], thresholdSeconds: 0.5 }))).toEqual({ time: 4.95, snappedTo: 'edge' });
  });

  it('ignores a grid that is not a positive number', () => {
    expect(snapTime(1.01, options({ grid: 0 }))).toEqual({ time: 1.01, snappedTo: null });
    expect(snapTime(1.01, options({ grid: Number.NaN }))).toEqual({ time: 1.01, snappedTo: null });
  });

  it('never moves a time further than the threshold, and returns a candidate when it moves', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1000, noNaN: true }),
        fc.option(fc.double({ min: 0.01, max: 10, noNaN: true })),
        fc.array(fc.double({ min: 0, max: 1000, noNaN: true }), { maxLength: 8 }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        (t, grid, edges, thresholdSeconds) => {
          const result = snapTime(t, { enabled: true, grid, edges, thresholdSeconds });
          expect(Math.abs(result.time - t)).toBeLessThanOrEqual(thresholdSeconds + 1e-9);
          if (result.snappedTo === 'edge') expect(edges).toContain(result.time);
          if (result.snappedTo === 'grid' && grid !== null) expect(result.time / grid).toBeCloseTo(Math.round(result.time / grid), 6);
          if (result.snappedTo === null) expect(result.time).toBe(t);
          // No edge is strictly nearer than what was chosen.
          if (result.snappedTo !== null) for (const e of edges) expect(Math.abs(e - t)).toBeGreaterThanOrEqual(Math.abs(result.time - t) - 1e-12);
        },
      ),
    );
  });
});

describe('regionEdges', () => {
  it('lists 0 and every start and end except the excluded regions, sorted and unique', () => {
    const doc = sampleProject();
    expect(regionEdges(doc, [])).toEqual([0, 3, 10, 20.5, 30]);
    expect(regionEdges(doc, ['rgn_c'])).toEqual([0, 10, 20.5]);
    expect(regionEdges(doc, new Set(['rgn_a', 'rgn_b'] as const))).toEqual([0, 3, 30]);
  });
});

describe('snapThreshold', () => {
  it('turns pixels into seconds at the current zoom', () => {
    expect(snapThreshold({ pxPerSecond: 100, scrollSeconds: 5 })).toBe(0.08);
    expect(snapThreshold({ pxPerSecond: 2, scrollSeconds: 0 }, 10)).toBe(5);
  });
});
