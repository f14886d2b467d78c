/** Chunk planning: same shape everywhere, exact coverage, enough context for every kept frame. */
import { describe, expect, it } from 'vitest';
import { planChunks } from '../../../src-main/engine/longform/chunks.ts';

describe('planChunks', () => {
  it('one chunk when the sequence fits', () => {
    expect(planChunks(100, 64, 18)).toEqual([{ start: 0, end: 100, keepStart: 0, keepEnd: 100 }]);
  });

  it.each([
    [1000, 256, 17],
    [257, 64, 22],
    [15000, 256, 32],
    [301, 100, 0],
    [999, 7, 3],
  ])('total %i, core %i, halo %i: constant length, tiling cores, halo context', (total, core, halo) => {
    const chunks = planChunks(total, core, halo);
    expect(chunks[0].keepStart).toBe(0);
    expect(chunks[chunks.length - 1].keepEnd).toBe(total);
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i];
      expect(c.end - c.start).toBe(core + 2 * halo);
      expect(c.start).toBeGreaterThanOrEqual(0);
      expect(c.end).toBeLessThanOrEqual(total);
      expect(c.keepEnd - c.keepStart).toBeGreaterThan(0);
      expect(c.keepEnd - c.keepStart).toBeLessThanOrEqual(core);
      if (i > 0) expect(c.keepStart).toBe(chunks[i - 1].keepEnd);
      // Context: either `halo` frames inside the chunk or the sequence edge.
      expect(c.keepStart - c.start >= halo || c.start === 0).toBe(true);
      expect(c.end - c.keepEnd >= halo || c.end === total).toBe(true);
    }
  });

  it('rejects nonsense sizes', () => {
    expect(() => planChunks(0, 10, 1)).toThrow(/total must be an integer ≥ 1, got 0/);
    expect(() => planChunks(10, 0, 1)).toThrow(/core/);
    expect(() => planChunks(10, 5, -1)).toThrow(/halo/);
  });
});
