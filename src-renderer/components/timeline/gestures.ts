/**
 * Pointer gestures on the timeline: move and trim regions, draw a region, marquee-select, seek and set the loop
 * on the ruler. Each follows the pointer on `window` until release, shows its preview through
 * `timeline.drag` / `timeline.snapAt`, and commits one edit at the end (Esc cancels). The arithmetic is in
 * state/drag.ts.
 */
import type { RegionId, TrackId } from '../../../src-main/contract/project.ts';
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
} from '../../state/drag.ts';
import type { StudioState } from '../../state/studio.svelte.ts';
import { TRACK_HEIGHT } from '../../state/timeline.svelte.ts';

interface Follow {
  move(event: PointerEvent): void;
  up(event: PointerEvent): void;
  cancel(): void;
}

/** Follows the pointer from `down` until it is released (or Esc cancels). */
function follow(down: PointerEvent, handlers: Follow): void {
  commitFocusedField();
  const pointerId = down.pointerId;
  let frame = 0;
  let last: PointerEvent | null = null;
  const onMove = (event: PointerEvent): void => {
    if (event.pointerId !== pointerId) return;
    last = event;
    // Coalesce to one update per frame: a 1000 Hz mouse must not run 1000 previews a second.
    if (frame === 0) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        if (last !== null) handlers.move(last);
      });
    }
  };
  const finish = (): void => {
    cancelAnimationFrame(frame);
    window.removeEventListener('pointermove', onMove);
    window.removeEventListener('pointerup', onUp);
    window.removeEventListener('pointercancel', onCancel);
    window.removeEventListener('keydown', onKey, true);
  };
  const onUp = (event: PointerEvent): void => {
    if (event.pointerId !== pointerId) return;
    finish();
    handlers.move(event);
    handlers.up(event);
  };
  const onCancel = (): void => {
    finish();
    handlers.cancel();
  };
  const onKey = (event: KeyboardEvent): void => {
    if (event.key !== 'Escape') return;
    event.preventDefault();
    event.stopPropagation();
    onCancel();
  };
  window.addEventListener('pointermove', onMove);
  window.addEventListener('pointerup', onUp);
  window.addEventListener('pointercancel', onCancel);
  window.addEventListener('keydown', onKey, true);
}

/**
 * Blurs a focused field so its `change` commits to what it was editing before the gesture changes the selection
 * (gestures call preventDefault, which would otherwise keep the focus and the uncommitted text).
 */
export function commitFocusedField(): void {
  const active = document.activeElement;
  if (active instanceof HTMLElement && active !== document.body) active.blur();
}

function endPreview(studio: StudioState): void {
  studio.timeline.drag = null;
  studio.timeline.snapAt = null;
}

const primary = (studio: StudioState, event: PointerEvent | MouseEvent): boolean => (studio.mac ? event.metaKey : event.ctrlKey);

/** Pointer down on a region's body: select it (Shift adds, Ctrl/Cmd toggles) and drag to move, also to another track. */
export function startRegionPointer(studio: StudioState, down: PointerEvent, regionId: RegionId): void {
  const doc = studio.document;
  const region = doc?.regions[regionId];
  if (doc === null || region === undefined || down.button !== 0) return;
  down.preventDefault();
  const wasSelected = studio.selectedRegionIds.has(regionId);
  if (primary(studio, down)) studio.selectRegion(regionId, 'toggle');
  else if (down.shiftKey) studio.selectRegion(regionId, 'add');
  else if (!wasSelected) studio.selectRegion(regionId, 'replace');
  if (!studio.selectedRegionIds.has(regionId)) return;

  const tl = studio.timeline;
  const ids = new Set(studio.selectedRegionIds);
  const span = spanOf(doc, ids);
  if (span === null) return;
  const trackIndex = doc.tracks.findIndex((t) => t.id === region.trackId);
  const singleTrack = [...ids].every((id) => doc.regions[id]?.trackId === region.trackId);
  const t0 = rawTime(studio, down.clientX);
  let dragging = false;

  follow(down, {
    move(event) {
      if (!dragging && !isDrag(event.clientX - down.clientX, event.clientY - down.clientY)) return;
      dragging = true;
      const snapped = moveDelta(span, rawTime(studio, event.clientX) - t0, studio.snapper(ids, event.altKey));
      const row = rowAt(tl.rowOffsetAt(event.clientY), TRACK_HEIGHT, doc.tracks.length);
      const trackShift = singleTrack ? row - trackIndex : 0;
      tl.drag = { kind: 'move', ids, delta: snapped.value, trackShift, valid: moveFits(doc, ids, snapped.value, trackShift) };
      tl.snapAt = snapped.snapAt;
    },
    up() {
      const preview = tl.drag;
      endPreview(studio);
      if (!dragging) {
        // A plain click on a region of a multi-selection selects just that region (on release, so the
        // selection could still be dragged as a whole).
        if (wasSelected && !down.shiftKey && !primary(studio, down)) studio.selectRegion(regionId, 'replace');
        return;
      }
      if (preview === null || preview.kind !== 'move') return;
      if (preview.delta === 0 && preview.trackShift === 0) return;
      const target = preview.trackShift === 0 ? undefined : doc.tracks[trackIndex + preview.trackShift]?.id;
      // The edit explains a refused move (overlap) itself; an invalid preview still goes through it for the message.
      studio.act.moveRegions([...ids], preview.delta, target);
    },
    cancel: () => endPreview(studio),
  });
}

/** Pointer down on a region's left or right edge: trim that edge (snapped, kept clear of neighbours). */
export function startTrim(studio: StudioState, down: PointerEvent, regionId: RegionId, edge: 'start' | 'end'): void {
  const doc = studio.document;
  const region = doc?.regions[regionId];
  if (doc === null || region === undefined || down.button !== 0) return;
  down.preventDefault();
  down.stopPropagation();
  if (!studio.selectedRegionIds.has(regionId)) studio.selectRegion(regionId, 'replace');
  const tl = studio.timeline;
  const gap = freeGap(laneSpans(doc, region.trackId), region.start, new Set([regionId])) ?? { start: 0, end: Number.POSITIVE_INFINITY };
  const subject = { start: region.start, end: region.end, takeOffset: region.takeOffset ?? 0, hasTake: region.takes.length > 0 };
  let dragging = false;

  follow(down, {
    move(event) {
      if (!dragging && !isDrag(event.clientX - down.clientX, 0)) return;
      dragging = true;
      const snapped = trimEdge(subject, edge, rawTime(studio, event.clientX), studio.snapper([regionId], event.altKey), gap);
      tl.drag = { kind: 'trim', id: regionId, edge, time: snapped.value };
      tl.snapAt = snapped.snapAt;
    },
    up() {
      const preview = tl.drag;
      endPreview(studio);
      if (!dragging || preview === null || preview.kind !== 'trim') return;
      if (preview.time === (edge === 'start' ? region.start : region.end)) return;
      studio.act.trimRegion(regionId, edge, preview.time);
    },
    cancel: () => endPreview(studio),
  });
}

/**
 * Pointer down on an empty stretch of a lane: drag to draw a region (Shift or Ctrl/Cmd: marquee-select); a click
 * moves the playhead there and selects the track.
 */
export function startLanePointer(studio: StudioState, down: PointerEvent, trackId: TrackId): void {
  const doc = studio.document;
  if (doc === null || down.button !== 0) return;
  down.preventDefault();
  const tl = studio.timeline;
  const t0 = rawTime(studio, down.clientX);
  const marquee = down.shiftKey || primary(studio, down);
  const row0 = doc.tracks.findIndex((t) => t.id === trackId);
  const gap = freeGap(laneSpans(doc, trackId), t0) ?? { start: t0, end: t0 };
  let dragging = false;
  studio.selectTrack(trackId);

  follow(down, {
    move(event) {
      if (!dragging && !isDrag(event.clientX - down.clientX, event.clientY - down.clientY)) return;
      dragging = true;
      const t = rawTime(studio, event.clientX);
      if (marquee) {
        const row = rowAt(tl.rowOffsetAt(event.clientY), TRACK_HEIGHT, doc.tracks.length);
        tl.drag = { kind: 'marquee', fromRow: row0, toRow: row, start: Math.max(0, Math.min(t0, t)), end: Math.max(t0, t) };
        return;
      }
      const snapped = drawSpan(t0, t, studio.snapper([], event.altKey), gap);
      tl.drag = { kind: 'draw', trackId, start: snapped.value.start, end: snapped.value.end };
      tl.snapAt = snapped.snapAt;
    },
    up() {
      const preview = tl.drag;
      endPreview(studio);
      if (!dragging) {
        if (!marquee) studio.clearSelection();
        studio.transport.seek(snapOrKeep(Math.max(0, t0), studio.snapper([], down.altKey)).value);
        return;
      }
      if (preview?.kind === 'marquee') {
        studio.selectRegions(marqueeHits(doc, preview.fromRow, preview.toRow, preview), down.shiftKey || primary(studio, down));
      } else if (preview?.kind === 'draw' && preview.end - preview.start >= MIN_REGION_SECONDS) {
        studio.act.addRegion(trackId, preview.start, preview.end);
      }
    },
    cancel: () => endPreview(studio),
  });
}

/** Pointer down on the ruler: click or drag to move the playhead; Shift-drag marks the loop range. */
export function startRulerPointer(studio: StudioState, down: PointerEvent): void {
  if (down.button !== 0 || studio.document === null) return;
  down.preventDefault();
  const tl = studio.timeline;
  const t0 = Math.max(0, rawTime(studio, down.clientX));
  const loop = down.shiftKey;
  let dragging = false;
  if (!loop) studio.transport.seek(t0);

  follow(down, {
    move(event) {
      if (!dragging && !isDrag(event.clientX - down.clientX, 0)) return;
      dragging = true;
      const t = Math.max(0, rawTime(studio, event.clientX));
      if (loop) {
        const snap = studio.snapper([], event.altKey);
        const a = snapOrKeep(t0, snap).value;
        const b = snapOrKeep(t, snap);
        tl.drag = { kind: 'loop', start: Math.min(a, b.value), end: Math.max(a, b.value) };
        tl.snapAt = b.snapAt;
      } else if (!studio.transport.playing) {
        // Scrubbing the playhead while stopped; while playing, the seek happens on release only (a seek rebuilds players).
        studio.transport.position = t;
      }
    },
    up(event) {
      const preview = tl.drag;
      endPreview(studio);
      if (loop) {
        if (preview?.kind === 'loop' && preview.end - preview.start > 0.05) studio.transport.setLoopRange({ start: preview.start, end: preview.end });
        return;
      }
      if (dragging) studio.transport.seek(Math.max(0, rawTime(studio, event.clientX)));
    },
    cancel: () => endPreview(studio),
  });
}

/** Timeline seconds under a client x, not clamped at 0 (gestures clamp themselves). */
function rawTime(studio: StudioState, clientX: number): number {
  const origin = studio.timeline.geometry?.originX() ?? 0;
  return (clientX - origin) / studio.timeline.pxPerSecond;
}
