/**
 * What the user has selected: a set of regions (click, Ctrl/Cmd-click, marquee, "select all on track") and a time
 * range (the loop / range selection). Immutable values: each function returns a new Selection, or the same one
 * when nothing changed, so `$state.raw` consumers re-render only on change.
 */
import type { ProjectDocument, RegionId, TrackId } from '../../src-main/contract/project.ts';
import { findRegion, regionsOfTrack, type Span } from './edit-core.ts';

/** Selected regions and the selected time range. */
export interface Selection {
  regionIds: ReadonlySet<RegionId>;
  /** start < end, or null when no range is selected. */
  range: { start: number; end: number } | null;
}

/** Nothing selected. */
export function emptySelection(): Selection {
  return { regionIds: new Set(), range: null };
}

/** Exactly these regions (a plain click; an empty list clears the regions); the range is kept. */
export function selectOnly(selection: Selection, ids: RegionId | Iterable<RegionId>): Selection {
  return { ...selection, regionIds: new Set(typeof ids === 'string' ? [ids] : ids) };
}

/** Adds regions (Shift-click, marquee with Shift). */
export function addToSelection(selection: Selection, ids: Iterable<RegionId>): Selection {
  const next = new Set(selection.regionIds);
  for (const id of ids) next.add(id);
  return next.size === selection.regionIds.size ? selection : { ...selection, regionIds: next };
}

/** Selects `id` if it was not, deselects it if it was (Ctrl/Cmd-click). */
export function toggle(selection: Selection, id: RegionId): Selection {
  const next = new Set(selection.regionIds);
  if (!next.delete(id)) next.add(id);
  return { ...selection, regionIds: next };
}

/** Every region of one track (double-click on the track header), replacing the region selection. */
export function selectAllOnTrack(selection: Selection, doc: ProjectDocument, trackId: TrackId): Selection {
  return selectOnly(
    selection,
    regionsOfTrack(doc, trackId).map((r) => r.id),
  );
}

/** True when region `id` is selected. */
export function isSelected(selection: Selection, id: RegionId): boolean {
  return selection.regionIds.has(id);
}

/** Sets the time range (ends in either order); an empty or invalid range clears it. */
export function setRange(selection: Selection, range: { start: number; end: number } | null): Selection {
  if (range === null || !Number.isFinite(range.start) || !Number.isFinite(range.end) || range.start === range.end) {
    return selection.range === null ? selection : { ...selection, range: null };
  }
  const start = Math.max(0, Math.min(range.start, range.end));
  const end = Math.max(range.start, range.end);
  return end > start ? { ...selection, range: { start, end } } : { ...selection, range: null };
}

/** The regions of `trackIds` (all tracks when omitted) that overlap `range`, for marquee selection. */
export function regionsInRange(doc: ProjectDocument, range: Span, trackIds?: Iterable<TrackId>): RegionId[] {
  const tracks = trackIds === undefined ? doc.tracks.map((t) => t.id) : [...trackIds];
  const lo = Math.min(range.start, range.end);
  const hi = Math.max(range.start, range.end);
  return tracks.flatMap((trackId) => regionsOfTrack(doc, trackId).filter((r) => r.start < hi && lo < r.end).map((r) => r.id));
}

/** From the first start to the last end of the existing regions among `ids`; null when none exists. */
export function selectionBounds(doc: ProjectDocument, ids: Iterable<RegionId>): { start: number; end: number } | null {
  let bounds: { start: number; end: number } | null = null;
  for (const id of ids) {
    const region = findRegion(doc, id);
    if (region === undefined) continue;
    bounds = bounds === null ? { start: region.start, end: region.end } : { start: Math.min(bounds.start, region.start), end: Math.max(bounds.end, region.end) };
  }
  return bounds;
}

/** Drops ids of regions that no longer exist (after delete, undo, reload); the same object when none is dropped. */
export function pruneSelection(doc: ProjectDocument, selection: Selection): Selection {
  const kept = [...selection.regionIds].filter((id) => findRegion(doc, id) !== undefined);
  return kept.length === selection.regionIds.size ? selection : { ...selection, regionIds: new Set(kept) };
}
