/** Hold weights and the held-frame replacement of generation in context (longform/context.ts). */
import { describe, expect, it } from 'vitest';
import { holdToContext, holdWeights } from '../../../src-main/engine/longform/context.ts';

describe('holdWeights', () => {
  it('holds the kept frames, frees the span and ramps down inside its edges (raised cosine)', () => {
    const h = holdWeights(100, { from: 30, to: 70, ramp: 10, before: true, after: true });
    for (let t = 0; t < 30; t++) expect(h[t]).toBe(1);
    for (let t = 70; t < 100; t++) expect(h[t]).toBe(1);
    for (let t = 40; t < 60; t++) expect(h[t]).toBe(0);
    for (let t = 30; t < 39; t++) expect(h[t]).toBeGreaterThan(h[t + 1]);
    expect(h[30]).toBeCloseTo(0.5 * (1 + Math.cos(Math.PI * 0.05)), 6);
    expect(h[35]).toBeCloseTo(h[64], 6); // symmetric edges
  });

  it('frees the ends that have nothing kept beyond them (extend: only the run before is held)', () => {
    const h = holdWeights(50, { from: 20, to: 50, ramp: 8, before: true, after: false });
    expect(Array.from(h.subarray(0, 20)).every((x) => x === 1)).toBe(true);
    expect(h[49]).toBe(0);
    expect(() => holdWeights(50, { from: 20, to: 60, ramp: 8, before: true, after: true })).toThrow(/free frames 20–60 are not a span of the piece's 50 frames/);
  });
});

describe('holdToContext', () => {
  it('moves held frames to signal·known + noise·ε, blends ramp frames and leaves free ones', () => {
    const layout = { channels: 2, frames: 3, bins: 2 };
    const n = 12;
    const sample = Float32Array.from({ length: n }, (_, i) => i);
    const known = new Float32Array(n).fill(10);
    const noise = new Float32Array(n).fill(1);
    const hold = Float32Array.from([1, 0.25, 0]);
    const out = holdToContext(sample, { known, hold }, { signal: 0.6, noise: 0.8 }, noise, layout);
    // [c, t, q] = (c·3 + t)·2 + q
    for (const c of [0, 1]) {
      for (const q of [0, 1]) {
        expect(out[(c * 3 + 0) * 2 + q]).toBeCloseTo(6.8, 5);
        expect(out[(c * 3 + 1) * 2 + q]).toBeCloseTo(0.25 * 6.8 + 0.75 * sample[(c * 3 + 1) * 2 + q], 5);
        expect(out[(c * 3 + 2) * 2 + q]).toBe(sample[(c * 3 + 2) * 2 + q]);
      }
    }
    expect(sample[0]).toBe(0); // inputs untouched
    expect(() => holdToContext(sample, { known, hold: new Float32Array(4) }, { signal: 1, noise: 0 }, noise, layout)).toThrow(/context of 4 frames/);
  });
});
