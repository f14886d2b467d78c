/** Gesture math: snapping edges, clamping to lane gaps and take starts, overlap checks and marquee hits. */
import { describe, expect, it } from 'vitest';
import type { ProjectDocument, Region, RegionId, TrackId } from '../../../src-main/contract/project.ts';
import {
  MIN_REGION_SECONDS,
  drawSpan,
  freeGap,
  isDrag,
  laneSpans,
  marqueeHits,
  moveDelta,
  moveFits,
  rowAt,
  snapOrKeep,
  spanOf,
  trimEdge,
  type Snapper,
} from '../../../src-renderer/state/drag.ts';

/** Snaps to whole seconds within 0.2 s. */
const toSeconds: Snapper = (t) => (Math.abs(t - Math.round(t)) <= 0.2 ? Math.round(t) : null);

function region(id: RegionId, trackId: TrackId, start: number, end: number): Region {
  return {
    id,
    trackId,
    start,
    end,
    prompt: '',
    negativePrompt: '',
    seed: null,
    generation: { model: 'sketch', steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 2 },
    gainDb: 0,
    fadeIn: 0,
    fadeOut: 0,
    takes: [],
    activeTakeId: null,
  };
}

function doc(): ProjectDocument {
  const track = (id: TrackId, regionIds: RegionId[]) => ({ id, name: id, colour: '#336699', volumeDb: 0, pan: 0, mute: false, solo: false, stem: true, regionIds });
  return {
    schemaVersion: 1,
    name: 'Drag',
    tempo: 120,
    sampleRate: 48000,
    tracks: [track('trk_a', ['rgn_1', 'rgn_2']), track('trk_b', ['rgn_3'])],
    regions: {
      rgn_1: region('rgn_1', 'trk_a', 0, 4),
      rgn_2: region('rgn_2', 'trk_a', 6, 10),
      rgn_3: region('rgn_3', 'trk_b', 2, 8),
    },
    settings: { defaultModel: 'sketch', defaultMethod: 'auto', defaultTransition: 2 },
    createdWith: 'Tessera 0.1.0',
    createdAt: '2025-03-01T09:00:00.000Z',
  };
}

describe('snapOrKeep', () => {
  it('returns the target and the indicator position, or the time unchanged', () => {
    expect(snapOrKeep(2.1, toSeconds)).toEqual({ value: 2, snapAt: 2 });
    expect(snapOrKeep(2.5, toSeconds)).toEqual({ value: 2.5, snapAt: null });
    expect(snapOrKeep(2.1, null)).toEqual({ value: 2.1, snapAt: null });
  });
});

describe('moveDelta', () => {
  it('snaps whichever edge is nearer a target', () => {
    // span 1.5…3.7 moved by 0.35 → start 1.85 (0.15 from 2), end 4.05 (0.05 from 4): the end wins.
    const r = moveDelta({ start: 1.5, end: 3.7 }, 0.35, toSeconds);
    expect(r.value).toBeCloseTo(0.3);
    expect(r.snapAt).toBe(4);
  });

  it('never moves a selection before zero', () => {
    expect(moveDelta({ start: 1, end: 2 }, -5, null).value).toBe(-1);
    expect(moveDelta({ start: 1, end: 2 }, -5, toSeconds).value).toBe(-1);
  });

  it('moves freely without snapping', () => {
    expect(moveDelta({ start: 1, end: 2 }, 0.55, null)).toEqual({ value: 0.55, snapAt: null });
  });
});

describe('trimEdge', () => {
  const subject = { start: 2, end: 6, takeOffset: 0.5, hasTake: true };
  const open = { start: 0, end: Number.POSITIVE_INFINITY };

  it('snaps the dragged edge', () => {
    expect(trimEdge(subject, 'end', 7.9, toSeconds, open)).toEqual({ value: 8, snapAt: 8 });
    expect(trimEdge(subject, 'start', 3.1, toSeconds, open)).toEqual({ value: 3, snapAt: 3 });
  });

  it('keeps a minimum length and the take start, and stays in the gap', () => {
    expect(trimEdge(subject, 'start', 9, null, open).value).toBeCloseTo(6 - MIN_REGION_SECONDS);
    expect(trimEdge(subject, 'start', 0, null, open).value).toBe(1.5);
    expect(trimEdge({ ...subject, hasTake: false }, 'start', 0, null, { start: 1, end: 20 }).value).toBe(1);
    expect(trimEdge(subject, 'end', 30, null, { start: 0, end: 12 }).value).toBe(12);
    expect(trimEdge(subject, 'end', 0, null, open).value).toBeCloseTo(2 + MIN_REGION_SECONDS);
  });
});

describe('drawSpan', () => {
  it('orders the ends, snaps both and keeps inside the gap', () => {
    expect(drawSpan(5.1, 2.9, toSeconds, { start: 0, end: 20 }).value).toEqual({ start: 3, end: 5 });
    expect(drawSpan(5, 30, null, { start: 4, end: 12 }).value).toEqual({ start: 5, end: 12 });
    expect(drawSpan(5, 1, null, { start: 4, end: 12 }).value).toEqual({ start: 4, end: 5 });
  });
});

describe('lanes', () => {
  it('finds the free gap around a time, or null inside a region', () => {
    const spans = laneSpans(doc(), 'trk_a');
    expect(freeGap(spans, 5)).toEqual({ start: 4, end: 6 });
    expect(freeGap(spans, 12)).toEqual({ start: 10, end: Number.POSITIVE_INFINITY });
    expect(freeGap(spans, 2)).toBeNull();
    expect(freeGap(spans, 2, new Set(['rgn_1']))).toEqual({ start: 0, end: 6 });
    expect(laneSpans(doc(), 'trk_zz')).toEqual([]);
  });

  it('measures the span of a selection', () => {
    expect(spanOf(doc(), ['rgn_1', 'rgn_3'])).toEqual({ start: 0, end: 8 });
    expect(spanOf(doc(), [])).toBeNull();
  });
});

describe('moveFits', () => {
  it('allows touching, refuses overlap, other tracks and negative times', () => {
    const d = doc();
    expect(moveFits(d, new Set(['rgn_1']), 2)).toBe(true); // 2…6 touches rgn_2
    expect(moveFits(d, new Set(['rgn_1']), 2.5)).toBe(false);
    expect(moveFits(d, new Set(['rgn_1']), -0.5)).toBe(false);
    expect(moveFits(d, new Set(['rgn_1']), 0, 1)).toBe(false); // onto rgn_3
    expect(moveFits(d, new Set(['rgn_2']), 0, 1)).toBe(false); // 6…10 onto 2…8
    expect(moveFits(d, new Set(['rgn_2']), 2, 1)).toBe(true); // 8…12 touches
    expect(moveFits(d, new Set(['rgn_2']), 0, 2)).toBe(false); // no third track
  });
});

describe('marqueeHits and rows', () => {
  it('selects the regions a rectangle touches', () => {
    expect(marqueeHits(doc(), 0, 1, { start: 3, end: 5 })).toEqual(['rgn_1', 'rgn_3']);
    expect(marqueeHits(doc(), 1, 0, { start: 9, end: 11 })).toEqual(['rgn_2']);
    expect(marqueeHits(doc(), 0, 0, { start: 4, end: 6 })).toEqual([]);
  });

  it('maps y to a row and tells drags from clicks', () => {
    expect(rowAt(0, 80, 3)).toBe(0);
    expect(rowAt(170, 80, 3)).toBe(2);
    expect(rowAt(1000, 80, 3)).toBe(2);
    expect(rowAt(-5, 80, 3)).toBe(0);
    expect(isDrag(1, 1)).toBe(false);
    expect(isDrag(3, 0)).toBe(true);
  });
});
