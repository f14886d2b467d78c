import { describe, expect, it } from 'vitest';
import { deleteRegions } from '../../../src-renderer/model/edits.ts';
import {
  addToSelection,
  emptySelection,
  isSelected,
  pruneSelection,
  regionsInRange,
  selectAllOnTrack,
  selectOnly,
  selectionBounds,
  setRange,
  toggle,
} from '../../../src-renderer/model/selection.ts';
import { sampleProject } from '../../contract/project-fixtures.ts';

const ids = (s: { regionIds: ReadonlySet<string> }) => [...s.regionIds].sort();

describe('region selection', () => {
  it('selects only the given regions, keeping the range', () => {
    const ranged = setRange(emptySelection(), { start: 1, end: 2 });
    const one = selectOnly(ranged, 'rgn_a');
    expect(ids(one)).toEqual(['rgn_a']);
    expect(one.range).toEqual({ start: 1, end: 2 });
    expect(ids(selectOnly(one, ['rgn_b', 'rgn_c']))).toEqual(['rgn_b', 'rgn_c']);
    expect(ids(selectOnly(one, []))).toEqual([]);
  });

  it('toggles and adds without touching the original', () => {
    const base = selectOnly(emptySelection(), 'rgn_a');
    const toggled = toggle(toggle(base, 'rgn_b'), 'rgn_a');
    expect(ids(toggled)).toEqual(['rgn_b']);
    expect(ids(base)).toEqual(['rgn_a']);
    expect(isSelected(toggled, 'rgn_b')).toBe(true);
    expect(isSelected(toggled, 'rgn_a')).toBe(false);
    expect(ids(addToSelection(base, ['rgn_c', 'rgn_a']))).toEqual(['rgn_a', 'rgn_c']);
    expect(addToSelection(base, ['rgn_a'])).toBe(base);
  });

  it('selects every region of a track', () => {
    const doc = sampleProject();
    expect(ids(selectAllOnTrack(selectOnly(emptySelection(), 'rgn_c'), doc, 'trk_a'))).toEqual(['rgn_a', 'rgn_b']);
    expect(ids(selectAllOnTrack(emptySelection(), doc, 'trk_gone'))).toEqual([]);
  });

  it('finds the regions a marquee touches', () => {
    const doc = sampleProject();
    expect(regionsInRange(doc, { start: 9, end: 11 })).toEqual(['rgn_a', 'rgn_b', 'rgn_c']);
    expect(regionsInRange(doc, { start: 25, end: 21 })).toEqual(['rgn_c']);
    expect(regionsInRange(doc, { start: 9, end: 11 }, ['trk_a'])).toEqual(['rgn_a', 'rgn_b']);
    // Touching an edge is not overlapping.
    expect(regionsInRange(doc, { start: 30, end: 40 })).toEqual([]);
  });
});

describe('range selection', () => {
  it('orders the ends, clamps at 0 and clears an empty range', () => {
    const s = emptySelection();
    expect(setRange(s, { start: 5, end: 2 }).range).toEqual({ start: 2, end: 5 });
    expect(setRange(s, { start: -3, end: 2 }).range).toEqual({ start: 0, end: 2 });
    expect(setRange(setRange(s, { start: 1, end: 2 }), { start: 3, end: 3 }).range).toBeNull();
    expect(setRange(s, { start: Number.NaN, end: 3 }).range).toBeNull();
    expect(setRange(s, null)).toBe(s);
  });
});

describe('bounds and pruning', () => {
  it('spans the selected regions that exist', () => {
    const doc = sampleProject();
    expect(selectionBounds(doc, ['rgn_b', 'rgn_c'])).toEqual({ start: 3, end: 30 });
    expect(selectionBounds(doc, ['rgn_a', 'rgn_missing'])).toEqual({ start: 0, end: 10 });
    expect(selectionBounds(doc, [])).toBeNull();
  });

  it('drops regions that no longer exist, returning the same selection when all do', () => {
    const doc = sampleProject();
    const selection = selectOnly(emptySelection(), ['rgn_a', 'rgn_b']);
    expect(pruneSelection(doc, selection)).toBe(selection);
    const after = deleteRegions(doc, ['rgn_b']).document;
    expect(ids(pruneSelection(after, selection))).toEqual(['rgn_a']);
  });
});
