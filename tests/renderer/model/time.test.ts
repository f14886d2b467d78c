import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_PX_PER_SECOND,
  MIN_GRID_PX,
  MIN_LABEL_PX,
  MIN_PX_PER_SECOND,
  clampZoom,
  fitView,
  formatBarsBeats,
  formatTime,
  gridStep,
  pxToSeconds,
  rulerTicks,
  secondsPerBeat,
  secondsToPx,
  visibleRange,
  zoomAt,
  type View,
} from '../../../src-renderer/model/time.ts';

const zoom = fc.double({ min: MIN_PX_PER_SECOND, max: MAX_PX_PER_SECOND, noNaN: true });
const view = fc.record({ pxPerSecond: zoom, scrollSeconds: fc.double({ min: 0, max: 7200, noNaN: true }) });
const tempo = fc.double({ min: 20, max: 400, noNaN: true });

describe('zoom limits', () => {
  it('fits 10 minutes in about 1000 px at the minimum and allows sample-level detail at the maximum', () => {
    expect(600 * MIN_PX_PER_SECOND).toBeGreaterThanOrEqual(800);
    expect(600 * MIN_PX_PER_SECOND).toBeLessThanOrEqual(1000);
    expect(MAX_PX_PER_SECOND).toBeGreaterThanOrEqual(1000);
  });

  it('clamps the scale, mapping NaN and non-positive values to the minimum', () => {
    expect(clampZoom(0.1)).toBe(MIN_PX_PER_SECOND);
    expect(clampZoom(1e9)).toBe(MAX_PX_PER_SECOND);
    expect(clampZoom(Infinity)).toBe(MAX_PX_PER_SECOND);
    expect(clampZoom(Number.NaN)).toBe(MIN_PX_PER_SECOND);
    expect(clampZoom(-5)).toBe(MIN_PX_PER_SECOND);
    expect(clampZoom(123)).toBe(123);
  });
});

describe('seconds ↔ pixels', () => {
  it('converts with scroll and scale', () => {
    const v: View = { pxPerSecond: 100, scrollSeconds: 2 };
    expect(secondsToPx(v, 2)).toBe(0);
    expect(secondsToPx(v, 5)).toBe(300);
    expect(pxToSeconds(v, 300)).toBe(5);
    expect(visibleRange(v, 1000)).toEqual({ start: 2, end: 12 });
  });

  it('round-trips any time through pixels', () => {
    fc.assert(
      fc.property(view, fc.double({ min: 0, max: 86_400, noNaN: true }), (v, t) => {
        expect(pxToSeconds(v, secondsToPx(v, t))).toBeCloseTo(t, 6);
      }),
    );
  });
});

describe('zoomAt', () => {
  it('keeps the anchor under the pointer', () => {
    const v = zoomAt({ pxPerSecond: 100, scrollSeconds: 10 }, 2, 15, 500);
    expect(v.pxPerSecond).toBe(200);
    expect(v.scrollSeconds).toBe(12.5);
    expect(secondsToPx(v, 15)).toBe(500);
  });

  it('keeps any anchor in place unless scroll would go below 0', () => {
    fc.assert(
      fc.property(view, fc.double({ min: 0.05, max: 20, noNaN: true }), fc.double({ min: 0, max: 2000, noNaN: true }), (v, factor, anchorPx) => {
        const anchor = pxToSeconds(v, anchorPx);
        const next = zoomAt(v, factor, anchor, anchorPx);
        expect(next.scrollSeconds).toBeGreaterThanOrEqual(0);
        expect(next.pxPerSecond).toBe(clampZoom(v.pxPerSecond * factor));
        if (next.scrollSeconds > 0) expect(secondsToPx(next, anchor)).toBeCloseTo(anchorPx, 4);
        // Pinned at 0 (the view cannot show negative time), the anchor can only have moved towards 0.
        else expect(secondsToPx(next, anchor)).toBeLessThanOrEqual(anchorPx + 1e-6);
      }),
    );
  });

  it('clamps scroll at 0 when zooming out near the start, and clamps the scale', () => {
    const out = zoomAt({ pxPerSecond: 100, scrollSeconds: 1 }, 0.1, 3, 200);
    expect(out).toEqual({ pxPerSecond: 10, scrollSeconds: 0 });
    expect(zoomAt({ pxPerSecond: 1500, scrollSeconds: 0 }, 4, 1, 100).pxPerSecond).toBe(MAX_PX_PER_SECOND);
  });

  it('ignores a factor that is not a positive number', () => {
    const v: View = { pxPerSecond: 50, scrollSeconds: 3 };
    expect(zoomAt(v, 0, 1, 1)).toBe(v);
    expect(zoomAt(v, Number.NaN, 1, 1)).toBe(v);
    expect(zoomAt(v, -2, 1, 1)).toBe(v);
  });
});

describe('fitView', () => {
  it('fits the duration into the width from 0', () => {
    expect(fitView(600, 1000)).toEqual({ pxPerSecond: 1000 / 600, scrollSeconds: 0 });
    expect(fitView(10, 1000)).toEqual({ pxPerSecond: 100, scrollSeconds: 0 });
  });

  it('shows a minute of an empty project and respects the zoom limits', () => {
    expect(fitView(0, 1200).pxPerSecond).toBe(20);
    expect(fitView(Number.NaN, 1200).pxPerSecond).toBe(20);
    expect(fitView(7200, 1000).pxPerSecond).toBe(MIN_PX_PER_SECOND);
    expect(fitView(0.01, 1000).pxPerSecond).toBe(MAX_PX_PER_SECOND);
  });
});

describe('formatTime', () => {
  it.each([
    [0, '0:00.000'],
    [1.5, '0:01.500'],
    [61.25, '1:01.250'],
    [599.999, '9:59.999'],
    [59.9996, '1:00.000'],
    [3599.9996, '1:00:00.000'],
    [3723.004, '1:02:03.004'],
    [36_000, '10:00:00.000'],
    [-1.25, '-0:01.250'],
  ])('%s s → %s', (seconds, text) => {
    expect(formatTime(seconds)).toBe(text);
  });

  it('marks a non-finite time instead of printing NaN', () => {
    expect(formatTime(Number.NaN)).toBe('-:--.---');
  });
});

describe('bars and beats', () => {
  it('counts 4/4 bars and beats from 1', () => {
    expect(secondsPerBeat(120)).toBe(0.5);
    expect(formatBarsBeats(0, 120)).toBe('1.1');
    expect(formatBarsBeats(0.5, 120)).toBe('1.2');
    expect(formatBarsBeats(1.99, 120)).toBe('1.4');
    expect(formatBarsBeats(2, 120)).toBe('2.1');
    expect(formatBarsBeats(9.75, 120)).toBe('5.4');
    expect(formatBarsBeats(8 / 3, 90)).toBe('2.1');
    expect(formatBarsBeats(-3, 120)).toBe('1.1');
  });

  it('puts a time computed as a float sum on the beat it names', () => {
    // Seven beats at 90 BPM added up one by one give 4.666666666666666 s, which divides to 6.999999999999999 beats.
    let t = 0;
    for (let i = 0; i < 7; i++) t += secondsPerBeat(90);
    expect(t / secondsPerBeat(90)).toBeLessThan(7);
    expect(formatBarsBeats(t, 90)).toBe('2.4');
    expect(formatBarsBeats(3 * (60 / 90) * 4, 90)).toBe('4.1');
  });
});

describe('gridStep', () => {
  it('picks subdivisions, beats and bar multiples by zoom', () => {
    expect(gridStep({ pxPerSecond: 100, scrollSeconds: 0 }, 120)).toEqual({ seconds: 0.125, kind: 'sub' });
    expect(gridStep({ pxPerSecond: 40, scrollSeconds: 0 }, 120)).toEqual({ seconds: 0.25, kind: 'sub' });
    expect(gridStep({ pxPerSecond: 20, scrollSeconds: 0 }, 120)).toEqual({ seconds: 0.5, kind: 'beat' });
    expect(gridStep({ pxPerSecond: 10, scrollSeconds: 0 }, 120)).toEqual({ seconds: 2, kind: 'bar' });
    expect(gridStep({ pxPerSecond: 1.5, scrollSeconds: 0 }, 120)).toEqual({ seconds: 8, kind: 'bar' });
  });

  it('always gives the finest step with lines at least 8 px apart', () => {
    fc.assert(
      fc.property(view, tempo, (v, bpm) => {
        const step = gridStep(v, bpm);
        const beat = secondsPerBeat(bpm);
        expect(step.seconds * v.pxPerSecond).toBeGreaterThanOrEqual(MIN_GRID_PX);
        // The next finer candidate (a beat below one bar, else half the step) would be too dense.
        const finer = step.kind === 'bar' && Math.abs(step.seconds - 4 * beat) < 1e-9 ? beat : step.seconds / 2;
        if (step.seconds > beat / 4) expect(finer * v.pxPerSecond).toBeLessThan(MIN_GRID_PX);
        // On the musical grid: a power-of-two multiple of a quarter beat.
        const quarters = step.seconds / (beat / 4);
        expect(Math.log2(quarters)).toBeCloseTo(Math.round(Math.log2(quarters)), 9);
        expect(step.kind).toBe(step.seconds < beat ? 'sub' : step.seconds === beat ? 'beat' : 'bar');
      }),
    );
  });
});

describe('rulerTicks in time mode', () => {
  it('labels every second and ticks every tenth at 100 px/s', () => {
    const ticks = rulerTicks({ pxPerSecond: 100, scrollSeconds: 0 }, 1000, 120, 'time');
    const majors = ticks.filter((t) => t.major);
    expect(majors.map((t) => t.label)).toEqual(['0:00', '0:01', '0:02', '0:03', '0:04', '0:05', '0:06', '0:07', '0:08', '0:09', '0:10']);
    expect(ticks).toHaveLength(101);
    expect(ticks[1]).toEqual({ seconds: 0.1, px: 10, major: false });
    expect(ticks.filter((t) => !t.major).every((t) => t.label === undefined)).toBe(true);
  });

  it('uses fine labels zoomed in and minutes zoomed out', () => {
    const fine = rulerTicks({ pxPerSecond: 2000, scrollSeconds: 1 }, 500, 120, 'time').filter((t) => t.major);
    expect(fine.map((t) => t.label)).toEqual(['0:01.00', '0:01.05', '0:01.10', '0:01.15', '0:01.20', '0:01.25']);
    const coarse = rulerTicks({ pxPerSecond: 1.5, scrollSeconds: 0 }, 1000, 120, 'time');
    expect(coarse.filter((t) => t.major).map((t) => t.label)).toEqual(['0:00', '1:00', '2:00', '3:00', '4:00', '5:00', '6:00', '7:00', '8:00', '9:00', '10:00', '11:00']);
    expect(coarse[1].seconds).toBe(10);
    const hours = rulerTicks({ pxPerSecond: 1.5, scrollSeconds: 3590 }, 200, 120, 'time').filter((t) => t.major);
    expect(hours.map((t) => t.label)).toEqual(['1:00:00', '1:01:00', '1:02:00']);
  });

  it('starts at the scroll position, never before 0, and keeps ticks in the strip', () => {
    const ticks = rulerTicks({ pxPerSecond: 100, scrollSeconds: 2.35 }, 300, 120, 'time');
    expect(ticks[0].seconds).toBeCloseTo(2.4, 9);
    expect(ticks[0].px).toBeCloseTo(5, 6);
    expect(ticks.every((t) => t.px >= -1e-6 && t.px <= 300 + 1e-6)).toBe(true);
    expect(rulerTicks({ pxPerSecond: 100, scrollSeconds: 0 }, 0, 120, 'time')).toEqual([]);
  });

  it('spaces majors ≥ 80 px and minors ≥ 8 px apart with increasing, distinct labels at any zoom', () => {
    fc.assert(
      fc.property(view, tempo, fc.constantFrom<'time' | 'bars'>('time', 'bars'), (v, bpm, mode) => {
        const ticks = rulerTicks(v, 1200, bpm, mode);
        const majors = ticks.filter((t) => t.major);
        for (let i = 1; i < ticks.length; i++) expect(ticks[i].px - ticks[i - 1].px).toBeGreaterThanOrEqual(MIN_GRID_PX - 1e-6);
        for (let i = 1; i < majors.length; i++) {
          expect(majors[i].px - majors[i - 1].px).toBeGreaterThanOrEqual(MIN_LABEL_PX - 1e-6);
          expect(majors[i].label).not.toBe(majors[i - 1].label);
        }
        expect(majors.every((t) => typeof t.label === 'string' && t.label !== '')).toBe(true);
        // Wide enough for a major tick whenever the strip spans at least two steps.
        if (ticks.length > 0) expect(ticks.length).toBeLessThanOrEqual(1200 / MIN_GRID_PX + 2);
      }),
    );
  });
});

describe('rulerTicks in bars mode', () => {
  it('labels bar numbers with sub-beat minor ticks', () => {
    const ticks = rulerTicks({ pxPerSecond: 100, scrollSeconds: 0 }, 1000, 120, 'bars');
    const majors = ticks.filter((t) => t.major);
    expect(majors.map((t) => [t.seconds, t.label])).toEqual([
      [0, '1'],
      [2, '2'],
      [4, '3'],
      [6, '4'],
      [8, '5'],
      [10, '6'],
    ]);
    expect(ticks[1].seconds).toBe(0.125);
  });

  it('labels bar.beat when beats are far enough apart', () => {
    const majors = rulerTicks({ pxPerSecond: 400, scrollSeconds: 1.9 }, 1000, 120, 'bars').filter((t) => t.major);
    expect(majors.map((t) => t.label)).toEqual(['2.1', '2.2', '2.3', '2.4', '3.1']);
  });

  it('skips bars when zoomed far out', () => {
    const majors = rulerTicks({ pxPerSecond: 1.5, scrollSeconds: 0 }, 1000, 120, 'bars').filter((t) => t.major);
    // A bar is 3 px: majors every 32 bars (96 px).
    expect(majors.slice(0, 3).map((t) => t.label)).toEqual(['1', '33', '65']);
  });
});
