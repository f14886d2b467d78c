import { describe, expect, it } from 'vitest';
import { PEAK_LEVELS } from '../../../src-main/contract/api.ts';
import { decodePeaks, pickPeakLevel, slicePeaks, toWaveSurferPeaks } from '../../../src-renderer/waveform/peaks.ts';

/** A level file as the host writes it: int16 little-endian pairs. */
function levelFile(values: number[]): ArrayBuffer {
  const view = new DataView(new ArrayBuffer(values.length * 2));
  values.forEach((v, i) => view.setInt16(i * 2, v, true));
  return view.buffer;
}

describe('pickPeakLevel', () => {
  it('picks the coarsest level that still gives at least one pair per pixel', () => {
    // 48 kHz at 100 px/s: 480 samples per pixel → 128 (512 would give < 1 pair per pixel).
    expect(pickPeakLevel(48_000, 100)).toBe(128);
    // Exactly 512 samples per pixel → 512.
    expect(pickPeakLevel(51_200, 100)).toBe(512);
    // Very zoomed out: 16 kHz at 1 px/s → the coarsest level.
    expect(pickPeakLevel(16_000, 1)).toBe(8192);
    // Zoomed in past the finest level: the finest.
    expect(pickPeakLevel(16_000, 10_000)).toBe(32);
  });

  it('always returns one of PEAK_LEVELS and gets finer as the zoom grows', () => {
    let previous: number = Infinity;
    for (let px = 0.5; px < 5000; px *= 1.7) {
      const level = pickPeakLevel(44_100, px);
      expect(PEAK_LEVELS).toContain(level);
      expect(level).toBeLessThanOrEqual(previous);
      if (level > PEAK_LEVELS[0]) expect(44_100 / level).toBeGreaterThanOrEqual(px);
      previous = level;
    }
  });

  it('refuses zero or negative inputs', () => {
    expect(() => pickPeakLevel(0, 10)).toThrow(/must be > 0, got 0 and 10/);
    expect(() => pickPeakLevel(48_000, -1)).toThrow(RangeError);
  });
});

describe('decodePeaks', () => {
  it('reads little-endian int16 pairs and scales by 32767', () => {
    const pairs = decodePeaks(levelFile([-32767, 32767, -16384, 8192, 0, 0]));
    expect(Array.from(pairs)).toEqual([-1, 1, -16384 / 32767, 8192 / 32767, 0, 0].map(Math.fround));
  });

  it('clamps -32768 to -1', () => {
    expect(Array.from(decodePeaks(levelFile([-32768, 100])))[0]).toBe(-1);
  });

  it('refuses a file that is not whole pairs', () => {
    expect(() => decodePeaks(new ArrayBuffer(6))).toThrow(/4 bytes each\), got 6 bytes/);
  });

  it('decodes an empty file to no pairs', () => {
    expect(decodePeaks(new ArrayBuffer(0))).toHaveLength(0);
  });
});

describe('slicePeaks', () => {
  // 10 pairs at 100 samples per pair, 1000 Hz: one pair per 0.1 s, values tagged by index.
  const pairs = Float32Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? -(i / 2 + 1) / 100 : (i - 1) / 2 / 10 + 0.05));

  it('cuts the pairs of a take range (takeOffset, region length)', () => {
    const slice = slicePeaks(pairs, 100, 1000, 0.3, 0.4);
    expect(slice).toHaveLength(8);
    expect(Array.from(slice)).toEqual(Array.from(pairs.subarray(6, 14)));
  });

  it('pads with silence past the end of the take', () => {
    const slice = slicePeaks(pairs, 100, 1000, 0.8, 0.5);
    expect(slice).toHaveLength(10);
    expect(Array.from(slice.subarray(0, 4))).toEqual(Array.from(pairs.subarray(16, 20)));
    expect(Array.from(slice.subarray(4))).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('accepts preview peaks as plain numbers', () => {
    expect(Array.from(slicePeaks([-0.5, 0.5, -0.25, 0.25], 1, 2, 0.5, 0.5))).toEqual([-0.25, 0.25]);
  });
});

describe('toWaveSurferPeaks', () => {
  it('splits pairs into maxima (drawn above) and minima (drawn below)', () => {
    const [tops, bottoms] = toWaveSurferPeaks([-0.5, 0.25, -0.1, 0.9]);
    expect(Array.from(tops)).toEqual([0.25, 0.9].map(Math.fround));
    expect(Array.from(bottoms)).toEqual([-0.5, -0.1].map(Math.fround));
  });

  it('keeps each half on its own side of zero', () => {
    // A pair entirely below zero has no top; one entirely above has no bottom.
    const [tops, bottoms] = toWaveSurferPeaks([-0.8, -0.2, 0.3, 0.6]);
    expect(Array.from(tops)).toEqual([0, Math.fround(0.6)]);
    expect(Array.from(bottoms)).toEqual([Math.fround(-0.8), 0]);
  });

  it('gives one silent pair for no peaks (wavesurfer refuses empty channels)', () => {
    const [tops, bottoms] = toWaveSurferPeaks(new Float32Array(0));
    expect(Array.from(tops)).toEqual([0]);
    expect(Array.from(bottoms)).toEqual([0]);
  });
});
