/**
 * The arithmetic of timeline gestures (draw, move, trim, marquee), pure so it is unit-tested: where a dragged edge
 * lands after snapping, how far a moved selection may go, which gap of a lane a new region may fill. Components
 * feed pointer positions already converted to seconds.
 */
import type { ProjectDocument, RegionId, TrackId } from '../../src-main/contract/project.ts';

/** Snaps a time: the target time when one is within reach, else null. */
export type Snapper = (t: number) => number | null;

/** Shortest region a gesture may leave, seconds. */
export const MIN_REGION_SECONDS = 0.05;

/** A time span. */
export interface Span {
  start: number;
  end: number;
}

/** The result of a snapped gesture: the value, and where the snap indicator goes (null = nothing snapped). */
export interface Snapped<T> {
  value: T;
  snapAt: number | null;
}

/** A time snapped when a target is near, else unchanged. */
export function snapOrKeep(t: number, snap: Snapper | null): Snapped<number> {
  const target = snap === null ? null : snap(t);
  return target === null ? { value: t, snapAt: null } : { value: target, snapAt: target };
}

/**
 * The delta that moves a selection spanning `span` by about `rawDelta` seconds: whichever of its edges is nearer a
 * snap target pulls it there, and the selection never starts before 0.
 */
export function moveDelta(span: Span, rawDelta: number, snap: Snapper | null): Snapped<number> {
  const floor = -span.start;
  let delta = Math.max(floor, rawDelta);
  let snapAt: number | null = null;
  if (snap !== null) {
    const candidates: { adjust: number; at: number }[] = [];
    for (const edge of [span.start, span.end]) {
      const target = snap(edge + delta);
      if (target !== null) candidates.push({ adjust: target - (edge + delta), at: target });
    }
    candidates.sort((a, b) => Math.abs(a.adjust) - Math.abs(b.adjust));
    const best = candidates[0];
    if (best !== undefined && delta + best.adjust >= floor) {
      delta += best.adjust;
      snapAt = best.at;
    }
  }
  return { value: delta, snapAt };
}

/** What a trim needs to know of the trimmed region. */
export interface TrimSubject extends Span {
  /** Seconds into the take where the region begins (0 without a take). */
  takeOffset: number;
  /** Whether the region has a take (a left trim cannot reach before the take's first sample). */
  hasTake: boolean;
}

/**
 * Where a dragged edge lands: snapped, kept inside the free gap (`bounds`, the neighbours on the lane), at least
 * MIN_REGION_SECONDS from the other edge and, for the left edge of a region with a take, not before the take starts.
 */
export function trimEdge(region: TrimSubject, edge: 'start' | 'end', pointerTime: number, snap: Snapper | null, bounds: Span): Snapped<number> {
  const snapped = snapOrKeep(pointerTime, snap);
  if (edge === 'start') {
    const lowest = Math.max(0, bounds.start, region.hasTake ? region.start - region.takeOffset : 0);
    const highest = region.end - MIN_REGION_SECONDS;
    const value = clamp(snapped.value, lowest, highest);
    return { value, snapAt: value === snapped.value ? snapped.snapAt : null };
  }
  const lowest = region.start + MIN_REGION_SECONDS;
  const value = clamp(snapped.value, lowest, Math.max(lowest, bounds.end));
  return { value, snapAt: value === snapped.value ? snapped.snapAt : null };
}

/** The span a draw gesture makes from its anchor to the pointer, both ends snapped and kept inside `bounds`. */
export function drawSpan(anchorTime: number, pointerTime: number, snap: Snapper | null, bounds: Span): Snapped<Span> {
  const a = snapOrKeep(anchorTime, snap);
  const b = snapOrKeep(pointerTime, snap);
  const lo = clamp(Math.min(a.value, b.value), Math.max(0, bounds.start), bounds.end);
  const hi = clamp(Math.max(a.value, b.value), lo, bounds.end);
  return { value: { start: lo, end: hi }, snapAt: b.snapAt ?? a.snapAt };
}

/** The spans of a lane's regions (any order). */
export type LaneSpans = readonly (Span & { id: RegionId })[];

/**
 * The free gap of a lane around `t`: from the end of the region before it to the start of the one after
 * (`end` is Infinity after the last). Null when `t` lies inside a region. Regions in `exclude` count as absent.
 */
export function freeGap(spans: LaneSpans, t: number, exclude: ReadonlySet<RegionId> = new Set()): Span | null {
  let start = 0;
  let end = Number.POSITIVE_INFINITY;
  for (const s of spans) {
    if (exclude.has(s.id)) continue;
    if (s.start <= t && t < s.end) return null;
    if (s.end <= t) start = Math.max(start, s.end);
    else if (s.start > t) end = Math.min(end, s.start);
  }
  return { start, end };
}

/** The spans of a track's regions in a document. */
export function laneSpans(doc: ProjectDocument, trackId: TrackId): LaneSpans {
  const track = doc.tracks.find((t) => t.id === trackId);
  if (track === undefined) return [];
  return track.regionIds.flatMap((id) => {
    const r = doc.regions[id];
    return r === undefined ? [] : [{ id, start: r.start, end: r.end }];
  });
}

/** The time span covered by some regions (null for none). */
export function spanOf(doc: ProjectDocument, ids: Iterable<RegionId>): Span | null {
  let start = Number.POSITIVE_INFINITY;
  let end = Number.NEGATIVE_INFINITY;
  for (const id of ids) {
    const r = doc.regions[id];
    if (r === undefined) continue;
    start = Math.min(start, r.start);
    end = Math.max(end, r.end);
  }
  return start < end ? { start, end } : null;
}

/**
 * Whether regions `ids` moved by `delta` (and, when `trackShift` ≠ 0, down that many tracks) land on existing
 * tracks without overlapping the regions that stay. Touching is allowed.
 */
export function moveFits(doc: ProjectDocument, ids: ReadonlySet<RegionId>, delta: number, trackShift = 0): boolean {
  const index = new Map(doc.tracks.map((t, i) => [t.id, i]));
  const moved: { track: number; start: number; end: number }[] = [];
  for (const id of ids) {
    const r = doc.regions[id];
    if (r === undefined) continue;
    const from = index.get(r.trackId);
    if (from === undefined) return false;
    const track = from + trackShift;
    if (track < 0 || track >= doc.tracks.length) return false;
    if (r.start + delta < -1e-9) return false;
    moved.push({ track, start: r.start + delta, end: r.end + delta });
  }
  for (const m of moved) {
    for (const id of doc.tracks[m.track].regionIds) {
      if (ids.has(id)) continue;
      const other = doc.regions[id];
      if (other !== undefined && m.start < other.end - 1e-9 && other.start < m.end - 1e-9) return false;
    }
  }
  // Moved regions must not overlap each other either (two tracks' selections folded onto one).
  for (let i = 0; i < moved.length; i++) {
    for (let j = i + 1; j < moved.length; j++) {
      const a = moved[i];
      const b = moved[j];
      if (a.track === b.track && a.start < b.end - 1e-9 && b.start < a.end - 1e-9) return false;
    }
  }
  return true;
}

/** The regions a marquee from tracks `trackFrom…trackTo` (indices, inclusive) and times `span` touches. */
export function marqueeHits(doc: ProjectDocument, trackFrom: number, trackTo: number, span: Span): RegionId[] {
  const lo = Math.max(0, Math.min(trackFrom, trackTo));
  const hi = Math.min(doc.tracks.length - 1, Math.max(trackFrom, trackTo));
  const hits: RegionId[] = [];
  for (let i = lo; i <= hi; i++) {
    for (const id of doc.tracks[i].regionIds) {
      const r = doc.regions[id];
      if (r !== undefined && r.start < span.end && span.start < r.end) hits.push(id);
    }
  }
  return hits;
}

/** The index of the row under `y` pixels (from the first row's top) for rows of `rowHeight`, clamped to `count`. */
export function rowAt(y: number, rowHeight: number, count: number): number {
  if (count <= 0) return -1;
  return clamp(Math.floor(y / rowHeight), 0, count - 1);
}

/** A pointer moved far enough to count as a drag rather than a click. */
export function isDrag(dx: number, dy: number, threshold = 3): boolean {
  return dx * dx + dy * dy >= threshold * threshold;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
